"""The launcher's logic below the widgets: QtCore signals at most, never QtWidgets or ui."""
