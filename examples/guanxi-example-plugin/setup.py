"""guanxi-example-plugin: a third-party Guanxi module ("visits") that records site visits to customers.

It is installed like any plugin package (``pip install guanxi-example-plugin``) and found through the
``guanxi.plugins`` entry point; nothing in Guanxi itself names it.
"""
from setuptools import find_namespace_packages, setup

setup(
    name="guanxi-example-plugin",
    version="0.1.0",
    description="Example third-party Guanxi plugin: site visits to customers",
    license="AGPL-3.0-or-later",
    python_requires=">=3.11",
    # namespace discovery also ships migrations/ and templates/, which hold no __init__.py
    packages=find_namespace_packages(include=["guanxi_example_visits", "guanxi_example_visits.*"]),
    include_package_data=True,
    package_data={
        "guanxi_example_visits": [
            "templates/*/*.html", "migrations/*.mako", "translations/*/LC_MESSAGES/*",
        ],
    },
    install_requires=["guanxi>=0.1"],
    entry_points={
        "guanxi.plugins": ["visits = guanxi_example_visits.plugin"],
    },
)
