"""Demo data: two business lines, a user per role, customers, products and cases."""

DEMO_PASSWORD = "kesu-demo-2026"


def load_demo():
    return []
