# Daybook API server. PostgreSQL in production:
#   docker run -e DAYBOOK_DATABASE_URL=postgres://user:pass@db:5432/daybook -p 8080:8080 daybook
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DAYBOOK_ENV=production

WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend ./backend
RUN pip install --no-cache-dir . \
    && useradd --create-home daybook \
    && mkdir -p /app/var && chown daybook /app/var
USER daybook

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz').status != 200)"
CMD ["sh", "-c", "daybook migrate && daybook serve --host 0.0.0.0 --port 8080 --workers ${WEB_CONCURRENCY:-2}"]
