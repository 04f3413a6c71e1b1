import os

from hypothesis import settings

pytest_plugins = ["tests.standins.fixtures", "tests.warehouses"]

# Property tests are sized for CI (2 cores, whole suite well under 30 minutes); `thorough` is for
# hunting: HYPOTHESIS_PROFILE=thorough pytest tests/test_incremental.py
settings.register_profile("ci", max_examples=25, deadline=None)
settings.register_profile("thorough", max_examples=400, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
