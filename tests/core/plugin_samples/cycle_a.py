REQUIRES = ("cycle_b",)
