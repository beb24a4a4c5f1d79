"""The forms engine: service catalog, form definitions, validation, conditions, the wizard.

Plain Python: no Qt, and none of Tongban's other packages.
"""

from forms.i18n import LANGS, I18nText, Lang
from forms.idnumber import is_valid_id_number
from forms.loader import (
    DefinitionError,
    DefinitionInvalid,
    check_definition,
    definition_schema,
    load_catalog,
    load_definition,
)
from forms.model import Catalog, Category, Field, ServiceDefinition, Step
from forms.payload import build_payload, example_answers, payload_schema, validate_answers
from forms.validation import FieldMessage
from forms.wizard import ReviewItem, StepResult, Wizard

__all__ = [
    "LANGS",
    "Catalog",
    "Category",
    "DefinitionError",
    "DefinitionInvalid",
    "Field",
    "FieldMessage",
    "I18nText",
    "Lang",
    "ReviewItem",
    "ServiceDefinition",
    "Step",
    "StepResult",
    "Wizard",
    "build_payload",
    "check_definition",
    "definition_schema",
    "example_answers",
    "is_valid_id_number",
    "load_catalog",
    "load_definition",
    "payload_schema",
    "validate_answers",
]
