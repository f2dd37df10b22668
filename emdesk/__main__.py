from emdesk.cli import main

raise SystemExit(main())
