REQUIRES = ("cycle_a",)
