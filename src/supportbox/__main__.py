from supportbox.cli.main import main

raise SystemExit(main())
