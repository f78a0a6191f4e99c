from rtpath.cli import main

raise SystemExit(main())
