"""Live updates: article and comment events as Server-Sent Events and on a WebSocket per
article, fanned out to every worker through the broker (core/broker.py)."""
