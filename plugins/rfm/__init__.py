"""rfm module — not built yet (see its issue); nothing here is registered."""
