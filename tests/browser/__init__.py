"""End-to-end journeys in headless Debian Chromium (Playwright) against a live gunicorn server."""
