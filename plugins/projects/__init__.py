"""Projects (项目型销售): project-based selling with configurable stages. The host imports ``plugin.py``."""
