"""The platform's side of the 空中充值 UTK card: over-the-air menu updates queued by push-menu."""
