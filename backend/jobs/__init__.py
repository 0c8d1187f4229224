"""Periodic jobs. Each runs under a lease so one worker at a time does it."""
