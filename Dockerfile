# Two images. The API server (the default, last stage), in production mode: PostgreSQL,
# Redis between workers, the key that encrypts stored secrets, and the /metrics token:
#   docker run -e DAYBOOK_DATABASE_URL=postgres://user:pass@db:5432/daybook \
#              -e DAYBOOK_REDIS_URL=redis://redis:6379/0 \
#              -e DAYBOOK_SECRET_KEYS=<Fernet key> -e DAYBOOK_METRICS_TOKEN=<token> -p 8080:8080 daybook
# (make a key with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")
# The dashboard (a client of the API only):
#   docker build --target dashboard -t daybook-dashboard .
#   docker run -e DAYBOOK_API_URL=http://api:8080 -p 3000:3000 daybook-dashboard

FROM python:3.11-slim AS dashboard
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    DAYBOOK_API_URL=http://127.0.0.1:8080
WORKDIR /app
# Bun from npm builds the frontend (Reflex's own Node path wants Node >= 22).
RUN apt-get update && apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/* \
    && npm install --prefix /app/.tools/bun --no-audit --no-fund bun@1.4.4
COPY frontend/requirements.txt frontend/requirements.txt
RUN python -m venv /app/.venv-dashboard \
    && /app/.venv-dashboard/bin/pip install --no-cache-dir -r frontend/requirements.txt
COPY rxconfig.py ./
COPY reflex.lock ./reflex.lock
COPY frontend ./frontend
RUN useradd --create-home daybook && chown -R daybook /app
USER daybook
EXPOSE 3000
# Reflex makes the production build at start; the API address is read at run time.
CMD ["python", "-m", "frontend.launch", "--host", "0.0.0.0", "--port", "3000"]

FROM python:3.11-slim AS api

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAYBOOK_ENV=production

WORKDIR /app
# DejaVu Sans: the Unicode font invoice PDFs are set in (backend/invoice_pdf.py).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY backend ./backend
RUN pip install --no-cache-dir . \
    && useradd --create-home daybook \
    && mkdir -p /app/var && chown daybook /app/var
USER daybook

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz').status != 200)"
# Workers: one per core with PostgreSQL and Redis, else one (see README); WEB_CONCURRENCY overrides.
CMD ["sh", "-c", "daybook migrate && daybook serve --host 0.0.0.0 --port 8080 ${WEB_CONCURRENCY:+--workers $WEB_CONCURRENCY}"]
