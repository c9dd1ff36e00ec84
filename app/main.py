"""`python -m app.main` / `partita-gui`: open the Partita window."""

from __future__ import annotations

import logging
import os
import sys


def warm_up_engine() -> None:
    """Import in the background what the first training run would otherwise import mid-session.

    PyTorch's optimizers import `torch._dynamo` (and sympy) on first use: about two seconds,
    parts of it holding the GIL, which froze the window for ~0.4 s when Start was pressed.
    Done while the user is still looking around, it costs nothing visible.
    """
    import threading

    def work() -> None:
        try:
            import torch._dynamo  # noqa: F401
        except Exception:  # an optional speed-up; training imports it again if needed
            pass

    threading.Thread(target=work, name="partita-warm-up", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    from core.userdata import setup_logging

    setup_logging(logging.INFO, console=True)  # a rotating log file a user can attach to a bug report
    from PySide6.QtWidgets import QApplication

    from app.compat import protect_singletons

    protect_singletons()  # PySide6 6.12 on Python 3.11 would otherwise abort after some painting or signalling
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName("Partita")
    app.setApplicationName("Partita")
    app.setApplicationDisplayName("Partita")
    from app.mainwindow import MainWindow
    from app.pianoroll.editing import release_clipboard

    app.aboutToQuit.connect(release_clipboard)
    window = MainWindow()
    window.show()
    for path in argv[1:]:
        if not path.startswith("-"):
            window.open_file(path)
    from PySide6.QtCore import QTimer

    QTimer.singleShot(2000, warm_up_engine)
    screenshot = os.environ.get("PARTITA_SCREENSHOT")
    if screenshot:  # for docs and CI: save the window after a moment, then quit

        def grab() -> None:
            window.grab().save(screenshot)
            window.close()

        QTimer.singleShot(int(os.environ.get("PARTITA_SCREENSHOT_DELAY_MS", "3000")), grab)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
