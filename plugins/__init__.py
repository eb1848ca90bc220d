"""The built-in complaint-category plugins, each registered through the ``kesu.plugins`` entry points."""
