from whoknows.cli import main

main()
