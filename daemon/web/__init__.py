"""The web UI and JSON API: aiohttp, server-rendered pages, HTTPS by default."""
