"""The reliability suite's harness (`make chaos`): processes, faults, traffic, ground truth."""
