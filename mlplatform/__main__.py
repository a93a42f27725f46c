from mlplatform.cli.app import main

main()
