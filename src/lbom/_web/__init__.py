"""The local web GUI: a small standard-library HTTP server plus static assets, a thin client of the library.

``security`` holds the rules that keep the server from being a hole (access token, Host check, folder
confinement), ``jobs`` runs scans in background threads, ``server`` maps HTTP requests to library calls and
``static/`` is the page (vanilla JS/CSS, no build step, nothing loaded from the network).
"""
