"""What the demo organisation talks about: departments, products, customers and know-how topics.

Everything here is invented for the demo (company *Northwind Cloud*, its products, customers and competitors).
Each topic names the departments whose people can answer it, a few ways of asking about it, and the facts a
good answer contains; the generator mixes these with phrasing frames so that no two threads read the same.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources

COMPANY = "Northwind Cloud"
DOMAIN = "northwind.example"


@dataclass(frozen=True)
class Department:
    name: str
    share: float  # share of headcount
    roles: tuple[tuple[str, float], ...]  # (job title, share within the department)
    teams: tuple[str, ...]
    asks: float  # how often its people ask questions (relative)
    chat: float = 1.0  # how much they post in public channels (the silo posts little)


DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "Sales",
        0.34,
        (
            ("Account Executive", 0.55),
            ("Sales Development Rep", 0.25),
            ("Sales Manager", 0.12),
            ("Deal Desk Analyst", 0.05),
            ("Regional VP", 0.03),
        ),
        ("Enterprise West", "Enterprise East", "EMEA", "APAC", "Mid-Market"),
        asks=5.0,
    ),
    Department(
        "Sales Engineering",
        0.12,
        (("Solutions Engineer", 0.75), ("Principal Solutions Engineer", 0.25)),
        ("SE Americas", "SE EMEA", "SE APAC"),
        asks=1.2,
    ),
    Department(
        "Product",
        0.11,
        (("Product Manager", 0.6), ("Senior Product Manager", 0.3), ("Group Product Manager", 0.1)),
        ("Beacon", "Relay", "Vault", "Pulse", "Platform"),
        asks=0.6,
    ),
    Department(
        "Support",
        0.11,
        (("Support Engineer", 0.8), ("Support Lead", 0.2)),
        ("Support Americas", "Support EMEA", "Support APAC"),
        asks=0.8,
    ),
    Department(
        "Customer Success",
        0.09,
        (("Customer Success Manager", 0.8), ("Onboarding Consultant", 0.2)),
        ("CS Enterprise", "CS Growth"),
        asks=2.5,
    ),
    Department("Readiness", 0.05, (("Enablement Manager", 0.7), ("Sales Trainer", 0.3)), ("Enablement",), asks=0.6),
    Department(
        "Product Marketing",
        0.05,
        (("Product Marketing Manager", 0.7), ("Competitive Analyst", 0.3)),
        ("PMM",),
        asks=0.6,
    ),
    Department(
        "Security & Compliance",
        0.04,
        (("Security Engineer", 0.5), ("Compliance Manager", 0.5)),
        ("Trust",),
        asks=0.3,
    ),
    Department(
        "Legal",
        0.04,
        (("Commercial Counsel", 0.5), ("Contracts Manager", 0.3), ("Privacy Counsel", 0.2)),
        ("Legal",),
        asks=0.3,
    ),
    # The planted silo: partner sellers who mostly talk among themselves in a private channel.
    Department(
        "Partner Alliances",
        0.05,
        (("Partner Manager", 0.8), ("Alliances Director", 0.2)),
        ("Alliances",),
        asks=1.5,
        chat=0.1,
    ),
)

SILO_DEPARTMENT = "Partner Alliances"

REGION_TIMEZONES: dict[str, tuple[str, ...]] = {
    "West": ("America/Los_Angeles", "America/Denver"),
    "East": ("America/New_York", "America/Chicago", "America/Toronto"),
    "EMEA": ("Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Stockholm"),
    "APAC": ("Asia/Singapore", "Australia/Sydney", "Asia/Tokyo", "Asia/Kolkata"),
}

PRODUCTS = ("Beacon Analytics", "Relay Integration Hub", "Vault Secure Storage", "Pulse Engagement")
COMPETITORS = ("Quorra Systems", "Helix Data", "Brightwave", "Vantagepoint")
CUSTOMERS = (
    "Acorn Health",
    "Bluefin Logistics",
    "Cobalt Bank",
    "Dunmore Retail",
    "Evergreen Energy",
    "Fairhaven Insurance",
    "Granite Telecom",
    "Harbor Foods",
    "Ironwood Manufacturing",
    "Juniper Pharma",
    "Keystone Airlines",
    "Lakeside University",
    "Meridian Capital",
    "Northstar Media",
    "Oakridge County",
    "Pinnacle Hotels",
    "Quarry Mining",
    "Redwood Credit Union",
    "Silverline Rail",
    "Tidewater Ports",
    "Umber Textiles",
    "Valewood Schools",
    "Westbrook Hospital",
    "Yellowstone Outfitters",
    "Zephyr Wind",
    "Alder Biotech",
    "Beacon Hill Legal",
    "Crescent Motors",
    "Delta Freight",
    "Elmstead Council",
)

FIRST_NAMES = (
    "Aisha",
    "Alex",
    "Amelia",
    "Ana",
    "Andre",
    "Anika",
    "Arjun",
    "Ben",
    "Bianca",
    "Carlos",
    "Chen",
    "Chloe",
    "Daniel",
    "Deepa",
    "Diego",
    "Elena",
    "Emeka",
    "Emma",
    "Farah",
    "Felix",
    "Fatima",
    "Gabriel",
    "Grace",
    "Hannah",
    "Hiroshi",
    "Ibrahim",
    "Ines",
    "Isaac",
    "Jack",
    "Jana",
    "Javier",
    "Jin",
    "Julia",
    "Kai",
    "Kavya",
    "Kenji",
    "Lara",
    "Leo",
    "Lina",
    "Lucas",
    "Maya",
    "Mateo",
    "Mei",
    "Mohammed",
    "Nadia",
    "Nina",
    "Noah",
    "Olivia",
    "Omar",
    "Priya",
    "Rafael",
    "Rania",
    "Ravi",
    "Rosa",
    "Sam",
    "Sara",
    "Sofia",
    "Tariq",
    "Tom",
    "Uma",
    "Victor",
    "Wei",
    "Yara",
    "Yusuf",
    "Zoe",
    "Oskar",
    "Freya",
    "Liam",
    "Ingrid",
    "Pablo",
    "Keiko",
    "Samir",
    "Thandi",
    "Marta",
    "Niklas",
    "Aiden",
    "Bea",
    "Camila",
    "Dmitri",
    "Esther",
    "Hugo",
    "Irene",
)
LAST_NAMES = (
    "Abara",
    "Andersson",
    "Bauer",
    "Becker",
    "Bianchi",
    "Brown",
    "Castillo",
    "Chen",
    "Cohen",
    "Costa",
    "Da Silva",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Gupta",
    "Haddad",
    "Hansen",
    "Hernandez",
    "Ito",
    "Jansen",
    "Johnson",
    "Kaur",
    "Khan",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lee",
    "Lopez",
    "Martin",
    "Moreau",
    "Müller",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Patel",
    "Petrov",
    "Quinn",
    "Rahman",
    "Reyes",
    "Rossi",
    "Sato",
    "Schmidt",
    "Silva",
    "Singh",
    "Smith",
    "Sousa",
    "Suzuki",
    "Tanaka",
    "Taylor",
    "Torres",
    "Wagner",
    "Walker",
    "Wang",
    "Weber",
    "Williams",
    "Wong",
    "Yamamoto",
    "Yilmaz",
    "Zhang",
    "Ziegler",
    "Adeyemi",
    "Bergström",
    "Conti",
    "Dimitriou",
    "Farouk",
    "Gallagher",
    "Horvath",
    "Ivanova",
    "Jovanovic",
)


@dataclass(frozen=True)
class Topic:
    key: str
    label: str
    category: str  # product | pricing | security | integrations | competitors | legal | readiness | support
    experts_from: tuple[str, ...]  # departments (or "Department/Team") whose people know it
    questions: tuple[str, ...]
    facts: tuple[str, ...]
    channel: str  # public channel where it is usually asked
    mailbox: str | None = None  # shared mailbox that also gets these questions
    n_experts: int | None = None  # fixed number of experts (planted single points of failure)
    askers_from: tuple[str, ...] = field(default=())  # restrict askers (the silo topic)


def _load_topics() -> tuple[Topic, ...]:
    data = tomllib.loads(resources.files("whoknows.demo").joinpath("topics.toml").read_text(encoding="utf-8"))
    return tuple(
        Topic(
            key=t["key"],
            label=t["label"],
            category=t["category"],
            experts_from=tuple(t["experts_from"]),
            questions=tuple(t["questions"]),
            facts=tuple(t["facts"]),
            channel=t["channel"],
            mailbox=t.get("mailbox"),
            n_experts=t.get("n_experts"),
            askers_from=tuple(t.get("askers_from", ())),
        )
        for t in data["topic"]
    )


#: The topics, from ``topics.toml`` beside this module.
TOPICS: tuple[Topic, ...] = _load_topics()

FEATURES = (
    "row-level audit trails",
    "offline mode",
    "custom roles",
    "the Teams app",
    "natural language queries",
    "multi-region failover",
    "a GraphQL API",
    "field-level encryption",
)
