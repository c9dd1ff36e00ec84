"""`python -m app.main` / `partita-gui`: open the Partita window."""

from __future__ import annotations

import logging
import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from PySide6.QtWidgets import QApplication

    from app.compat import protect_none

    protect_none()  # PySide6 6.12 on Python 3.11 would otherwise abort after a few seconds of painting
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName("Partita")
    app.setApplicationName("Partita")
    app.setApplicationDisplayName("Partita")
    from app.mainwindow import MainWindow

    window = MainWindow()
    window.show()
    for path in argv[1:]:
        if not path.startswith("-"):
            window.open_file(path)
    screenshot = os.environ.get("PARTITA_SCREENSHOT")
    if screenshot:  # for docs and CI: save the window after a moment, then quit
        from PySide6.QtCore import QTimer

        def grab() -> None:
            window.grab().save(screenshot)
            window.close()

        QTimer.singleShot(int(os.environ.get("PARTITA_SCREENSHOT_DELAY_MS", "3000")), grab)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
