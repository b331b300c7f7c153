"""Site visits (上门拜访): an example third-party Guanxi module. The host imports only ``plugin.py``."""
