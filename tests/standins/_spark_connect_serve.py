"""A Spark Connect server for the tests (run with the test env's python): an embedded Spark
whose driver also serves Spark Connect on 127.0.0.1:PORT, its tables in a Hive catalog (Derby) in
WAREHOUSE. Prints `PORT <n>` once it answers. Arguments: WAREHOUSE PORT.

The server holds the catalog, so the tests' own connectors and the `journeyctl` processes they
start (killed ones too) are all clients of one engine, as they would be of a cluster.
"""

import sys
import time

from pyspark.sql import SparkSession

warehouse, port = sys.argv[1], sys.argv[2]
session = (
    SparkSession.builder.master("local[2]").appName("journeyctl-tests-connect")
    .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
    .config("spark.connect.grpc.binding.address", "127.0.0.1")
    .config("spark.connect.grpc.binding.port", port)
    .config("spark.sql.catalogImplementation", "hive")
    .config("spark.sql.warehouse.dir", warehouse)
    .config("spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={warehouse}/metastore_db;create=true")
    .config("spark.driver.defaultJavaOptions",
            "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m -XX:+UseSerialGC "  # C1's 48 MB fills up
            f"-Dderby.stream.error.file={warehouse}/derby.log")
    .config("spark.sql.shuffle.partitions", "4")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .getOrCreate()
)
session.sparkContext.setLogLevel("ERROR")
session.catalog.databaseExists("default")  # boot the catalog before saying we are ready
print(f"PORT {port}", flush=True)
while True:
    time.sleep(3600)
