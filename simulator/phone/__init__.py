"""The terminal SIM phone for testers: a Textual handset, its transports and a transcript player."""
