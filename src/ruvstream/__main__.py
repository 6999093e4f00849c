from ruvstream.cli.main import main

main()
