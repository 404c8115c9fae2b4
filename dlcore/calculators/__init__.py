"""Calculators: layer shapes/parameters/MACs with the worked arithmetic, losses step by step."""
