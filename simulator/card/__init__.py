"""The 空中充值 UTK card and the handset's toolkit side, talking only in card-toolkit bytes."""
