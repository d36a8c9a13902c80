"""stepdistill: Distilling Step-by-Step (Hsieh et al., ACL 2023) as a practical toolkit."""

from stepdistill.errors import DataError, MissingSplitError, StepdistillError, UnknownNameError
from stepdistill.schema import Example, ParseResult, TeacherRecord

__version__ = "0.1.0.dev0"

__all__ = [
    "DataError",
    "Example",
    "MissingSplitError",
    "ParseResult",
    "StepdistillError",
    "TeacherRecord",
    "UnknownNameError",
    "__version__",
]
