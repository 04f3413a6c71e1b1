from journeyctl.cli import main

main()
