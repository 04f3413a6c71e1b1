pytest_plugins = ["tests.standins.fixtures", "tests.warehouses"]
