"""Default settings, number plan and menu texts, shipped as package data (smsmenu.config)."""
