"""Label Auditor: the Django project (settings, URLs) and its apps."""
