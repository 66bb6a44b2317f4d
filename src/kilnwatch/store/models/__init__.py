"""All ORM models, importable from one place (Alembic reads ``Base.metadata`` here)."""

from kilnwatch.store.models.base import Base, UTCDateTime
from kilnwatch.store.models.identity import SignInFailure, User, UserTotp
from kilnwatch.store.models.readings import SOURCE_CODES, SOURCE_NAMES, IngestBatch, Reading
from kilnwatch.store.models.registry import (
    Enterprise,
    Gateway,
    Meter,
    ProductionUnit,
    Project,
    Region,
    project_units,
)

__all__ = [
    "SOURCE_CODES",
    "SOURCE_NAMES",
    "Base",
    "Enterprise",
    "Gateway",
    "IngestBatch",
    "Meter",
    "ProductionUnit",
    "Project",
    "Reading",
    "Region",
    "SignInFailure",
    "UTCDateTime",
    "User",
    "UserTotp",
    "project_units",
]

from kilnwatch.store.models.verify import (  # noqa: E402
    CredibilityScore,
    FindingRecord,
    GridElectricity,
    LogisticsWaybill,
    MarketPrice,
    StatisticalReport,
    TaxInvoice,
    VerificationRun,
)

__all__ += [
    "CredibilityScore",
    "FindingRecord",
    "GridElectricity",
    "LogisticsWaybill",
    "MarketPrice",
    "StatisticalReport",
    "TaxInvoice",
    "VerificationRun",
]

from kilnwatch.store.models.ingest import (  # noqa: E402
    DeadLetter,
    DeliveryRepeat,
    EmissionHour,
    LogInbox,
    Rollup,
)

__all__ += ["DeadLetter", "DeliveryRepeat", "EmissionHour", "LogInbox", "Rollup"]

from kilnwatch.store.models.forward import (  # noqa: E402
    ForwardDevice,
    ForwardFrame,
    ForwardItem,
    ForwardMeter,
    ForwardTarget,
)

__all__ += ["ForwardDevice", "ForwardFrame", "ForwardItem", "ForwardMeter", "ForwardTarget"]

from kilnwatch.store.models.web import FindingEvent, WebSession  # noqa: E402

__all__ += ["FindingEvent", "WebSession"]
from kilnwatch.store.models.reports import (  # noqa: E402
    ReportArchive,
    ReportDelivery,
    ReportSchedule,
)

__all__ += ["ReportArchive", "ReportDelivery", "ReportSchedule"]

from kilnwatch.store.models.audit import AuditEntry  # noqa: E402

__all__ += ["AuditEntry"]
from kilnwatch.store.models.supervise import (  # noqa: E402
    InspectionCheck,
    InspectionGroup,
    InspectionRound,
    InspectionVisit,
    NoticeContact,
    NoticePreference,
    OutboxMail,
    QuotaAllocation,
    QuotaDeduction,
    SupervisionEvent,
    SupervisionEvidence,
    SupervisionItem,
    SupervisionNotice,
    UserDepartment,
)

__all__ += [
    "InspectionCheck",
    "InspectionGroup",
    "InspectionRound",
    "InspectionVisit",
    "NoticeContact",
    "NoticePreference",
    "OutboxMail",
    "QuotaAllocation",
    "QuotaDeduction",
    "SupervisionEvent",
    "SupervisionEvidence",
    "SupervisionItem",
    "SupervisionNotice",
    "UserDepartment",
]

from kilnwatch.store.models.emissions import EmissionPermit  # noqa: E402

__all__ += ["EmissionPermit"]

from kilnwatch.store.models.metering import MeterCalibration, MeteringPoint  # noqa: E402

__all__ += ["MeterCalibration", "MeteringPoint"]

from kilnwatch.store.models.mappings import SourceMapping  # noqa: E402

__all__ += ["SourceMapping"]

from kilnwatch.store.models.programme import (  # noqa: E402
    EnergyFactor,
    ExitGround,
    LevelDetermination,
    PlanMilestone,
    RetrofitPlan,
    SavingsVerification,
)

__all__ += [
    "EnergyFactor",
    "ExitGround",
    "LevelDetermination",
    "PlanMilestone",
    "RetrofitPlan",
    "SavingsVerification",
]

from kilnwatch.store.models import projects  # noqa: E402
from kilnwatch.store.models.projects import *  # noqa: E402, F403

__all__ += projects.__all__
