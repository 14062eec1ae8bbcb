"""Deterministic seed data for both simulators: an architecture/engineering practice's Ajera database and
its Vantagepoint CRM, overlapping messily.

``generate(seed, sizes)`` returns a ``World`` whose ``ajera`` and ``crm`` dicts are the ``seed`` arguments of
the two apps' ``create_app`` (shapes in ``docs/simulator-contract.md``). The same seed and sizes always give
byte-identical output: everything comes from one ``random.Random(seed)`` and fixed base dates.

What is planted, per record type (firms, contacts, employees, vendors, projects), and recorded in
``World.notes`` (also returned by ``planted(world)``) with the keys on both sides:

- ``exact``: the same name in both systems.
- ``case_only``: names equal under ``str.casefold`` but not byte-equal ("ACME SUPPLIES" / "Acme Supplies").
- ``near_miss``: names that differ under casefold but are equal under ``normalize_name`` (``&``/``and``,
  legal suffixes, punctuation, accents, a leading "The"); the sync may only *suggest* these.
- ``duplicates``: one name twice on one side (and once on the other): ambiguous, never auto-linked.
- ``ajera_only`` / ``crm_only``: no partner under any rule.
- projects also list ``long_names``: pairs whose Ajera Description is over 40 characters; the CRM side has
  the name cut to 40 characters in ``Name`` and the full name in ``LongName``.

Apart from the planted groups, every name is unique under ``normalize_name`` across its record type (firms
and vendors share one name space, as the CRM keeps both as firms; contacts and employees share another).
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable

from simulators.vantagepoint.schema import AJERA_PROJECT_FIELDS

__all__ = [
    "Sizes",
    "World",
    "generate",
    "describe",
    "planted",
    "normalize_name",
    "person_name",
    "AJERA_API_ID",
]

AJERA_API_ID = "ajera-sim:1"  # base64 of this goes after "AjeraAPI.ashx?"

CRM_NAME_MAX = 40
AJERA_DESCRIPTION_MAX = 80
CONTACTS_SYNC_CAP = 5  # AjeraSync "Y" contacts per CRM firm


@dataclass
class Sizes:
    """Record counts per system (Ajera and CRM each get about this many; see ``describe``)."""

    firms: int = 200
    contacts: int = 400
    employees: int = 60
    vendors: int = 40
    projects: int = 300
    templates: int = 3


@dataclass
class World:
    ajera: dict[str, list[dict[str, Any]]]
    crm: dict[str, list[dict[str, Any]]]
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)


# --------------------------------------------------------------------------------------------- names

_PUNCT = re.compile(r"[^\w\s]")
_LEGAL_SUFFIXES = {
    "inc", "incorporated", "llc", "llp", "ltd", "limited", "corp", "corporation", "co", "company", "pc", "pllc",
    "lp", "plc", "gmbh",
}


def normalize_name(name: str | None) -> str:
    """Fold case, accents, punctuation, ``&``/``and``, legal suffixes and a leading "The".

    The same rules as the sync engine's match-suggestion normaliser (``include.sync.names.normalised``),
    kept here so the simulators do not import the sync code.
    """
    value = name or ""
    if not value.isascii():
        value = unicodedata.normalize("NFKD", value)
        value = "".join(ch for ch in value if not unicodedata.combining(ch))
    value = value.casefold().replace("&", " and ")
    value = re.sub(r"[.'\u2019]", "", value)
    value = _PUNCT.sub(" ", value)
    words = value.split()
    if words and words[0] == "the":
        words = words[1:]
    while words and words[-1] in _LEGAL_SUFFIXES:
        words = words[:-1]
    return " ".join(words)


def person_name(first: str | None, middle: str | None, last: str | None) -> str:
    return " ".join(p.strip() for p in (first, middle, last) if p and p.strip())


# ---------------------------------------------------------------------------------------------- pools

PLACES = [
    "Riverside", "Harbor Point", "Bayview", "Oak Ridge", "Cedar Falls", "Maple Grove", "Lakeshore", "Pine Valley",
    "Willow Creek", "Summit", "Fairview", "Brookside", "Stonebridge", "Westfield", "Northgate", "Eastlake",
    "Southport", "Mill Creek", "Clearwater", "Granite Bay", "Silver Lake", "Red Rock", "Eagle Ridge",
    "Highland Park", "Cypress Hill", "Meadowbrook", "Aspen Grove", "Copper Canyon", "Hidden Valley", "Sandpoint",
    "Ironwood", "Kingsbridge", "Larkspur", "Marina Del Mar", "Newport", "Old Town", "Parkside", "Quail Run",
    "Rosewood", "Seaside", "Timberline", "Union Square", "Valley View", "Woodland Hills", "Crescent Bay",
    "Foxhall", "Glenwood", "Hawthorne", "Juniper Hills", "Kestrel Point", "Lincoln Heights", "Magnolia",
    "Northshore", "Orchard Park", "Prairie View", "Ridgecrest", "Shoreline", "Twin Oaks", "Upland",
    "Vista del Sol", "Westbrook", "Yorktown", "Zephyr Cove", "Alder Creek", "Birchwood", "Canyon Crest",
    "Driftwood", "Evergreen", "Falcon Ridge", "Heritage Park", "Jasper", "Keystone", "Laurel Canyon",
    "Mesa Verde", "Bellwether", "Sterling Heights", "Harmony Springs", "Blue Heron", "Thornbury", "Ashford",
]

CITIES = [
    ("Portland", "OR", "972", "503"), ("Seattle", "WA", "981", "206"), ("Sacramento", "CA", "958", "916"),
    ("Oakland", "CA", "946", "510"), ("San Diego", "CA", "921", "619"), ("Denver", "CO", "802", "303"),
    ("Boise", "ID", "837", "208"), ("Austin", "TX", "787", "512"), ("Phoenix", "AZ", "850", "602"),
    ("Salt Lake City", "UT", "841", "801"), ("Minneapolis", "MN", "554", "612"), ("Madison", "WI", "537", "608"),
    ("Raleigh", "NC", "276", "919"), ("Richmond", "VA", "232", "804"), ("Columbus", "OH", "432", "614"),
    ("Nashville", "TN", "372", "615"), ("Albuquerque", "NM", "871", "505"), ("Spokane", "WA", "992", "509"),
    ("Tacoma", "WA", "984", "253"), ("Eugene", "OR", "974", "541"), ("Reno", "NV", "895", "775"),
    ("Fresno", "CA", "937", "559"), ("Charlotte", "NC", "282", "704"), ("Pittsburgh", "PA", "152", "412"),
]

STREETS = [
    "Main Street", "Market Street", "Broadway", "Harbor Boulevard", "Oak Avenue", "Pine Street", "1st Avenue",
    "Commerce Way", "Industrial Parkway", "Lakeview Drive", "Mission Street", "Civic Center Drive", "Elm Street",
    "Park Place", "Riverfront Way", "Sunset Boulevard", "Washington Avenue", "University Avenue",
]

SURNAMES = [
    "Hollis", "Marsh", "Anderson", "Bennett", "Carver", "Delgado", "Ellison", "Fischer", "Garrison", "Hartley",
    "Iverson", "Jacobs", "Kessler", "Lindqvist", "Monroe", "Nakamura", "Okafor", "Prescott", "Quinlan", "Ramirez",
    "Sorensen", "Thornton", "Underwood", "Vasquez", "Whitaker", "Yamamoto", "Zielinski", "Abernathy", "Blackwell",
    "Castellanos", "Donnelly", "Eastwood", "Fairbanks", "Gallagher", "Holloway", "Ingram", "Jorgensen", "Kowalski",
    "Larsen", "Mercer", "Novak", "Osborne", "Pemberton", "Rasmussen", "Stafford", "Thackeray", "Vance", "Wexler",
    "Chen", "Nguyen", "Patel", "Kim", "Singh", "Garcia", "Martinez", "Johnson", "Williams", "Brown", "Davis",
    "Miller", "Wilson", "Moore", "Taylor", "Thomas", "Jackson", "White", "Harris", "Martin", "Thompson", "Clark",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez",
    "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed",
    "Kelly", "Howard", "Ramos", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James",
    "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Myers", "Long", "Ross",
    "Foster", "Jimenez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler",
    "Henderson", "Barnes", "Fisher", "Vargas", "Hayes", "Hwang", "Okonkwo", "Lindgren", "Brennan", "Fitzgerald",
    "McKay", "DeLuca", "MacDonald", "VanDyke", "McAllister", "LeBlanc", "DiMarco", "McIntyre",
]
ACCENTED_SURNAMES = [("Hernández", "Hernandez"), ("Muñoz", "Munoz"), ("Peña", "Pena"), ("Núñez", "Nunez"),
                     ("Ibáñez", "Ibanez"), ("Sánchez", "Sanchez"), ("Gómez-Ruiz", "Gomez-Ruiz"),
                     ("Müller", "Muller"), ("Björk", "Bjork")]
FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Christopher", "Karen", "Daniel",
    "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Margaret", "Steven", "Sandra", "Andrew", "Ashley",
    "Joshua", "Emily", "Kevin", "Michelle", "Brian", "Amanda", "George", "Melissa", "Timothy", "Deborah", "Ryan",
    "Stephanie", "Jacob", "Rebecca", "Gary", "Laura", "Nicholas", "Sharon", "Eric", "Cynthia", "Jonathan",
    "Kathleen", "Stephen", "Amy", "Larry", "Angela", "Justin", "Shirley", "Scott", "Anna", "Brandon", "Ruth",
    "Benjamin", "Brenda", "Samuel", "Pamela", "Gregory", "Nicole", "Alexander", "Katherine", "Patrick", "Samantha",
    "Frank", "Christine", "Raymond", "Emma", "Jack", "Catherine", "Dennis", "Debra", "Jerry", "Rachel", "Tyler",
    "Carolyn", "Aaron", "Janet", "Adam", "Maria", "Nathan", "Heather", "Henry", "Diane", "Zachary", "Olivia",
    "Priya", "Wei", "Hiroshi", "Aisha", "Mateo", "Ingrid", "Tomasz", "Chidi", "Mei", "Rohan", "Sofia", "Lars",
]
ACCENTED_FIRST = [("José", "Jose"), ("Zoë", "Zoe"), ("Renée", "Renee"), ("André", "Andre"), ("Chloé", "Chloe"),
                  ("Inés", "Ines"), ("Joël", "Joel"), ("Noémie", "Noemie"), ("Raúl", "Raul"), ("Fabián", "Fabian")]
MIDDLE_NAMES = ["Lee", "Ann", "Marie", "James", "Lynn", "Ray", "Jean", "Rose", "Allen", "Grace", "Elliott", "Jo"]
INITIALS = "ABCDEFGHJKLMNPRSTW"

DESIGN_DISCIPLINES = [
    "Architects", "Architecture", "Structural Engineers", "Civil", "Civil Engineering", "Engineering Group",
    "Design Studio", "Design Group", "Consulting Engineers", "Planning & Design", "Associates", "Partners",
]
CONSULTANT_DISCIPLINES = [
    ("Mechanical & Electrical Engineers", "MEP"), ("MEP Engineering", "MEP"), ("Building Systems", "MEP"),
    ("Geotechnical", "Geotechnical"), ("Geotechnical & Environmental", "Geotechnical"),
    ("Landscape Architecture", "Landscape"), ("Land Design", "Landscape"), ("Land Surveying", "Survey"),
    ("Surveying & Mapping", "Survey"), ("Structural Engineers", "Structural"), ("Structural Design", "Structural"),
    ("Civil Engineers", "Civil"), ("Acoustics", "Acoustical"), ("Lighting Design", "Lighting"),
    ("Cost Consultants", "Cost Estimating"), ("Traffic Engineering", "Traffic"), ("Fire Protection", "Fire Protection"),
]
SUPPLIER_KINDS = ["Reprographics", "Blueprint & Supply", "Office Supply", "Courier Service", "Printing",
                  "IT Services", "Model Shop", "Document Services"]
OWNER_FORMS = [
    "City of {p}", "County of {p}", "{p} Unified School District", "{p} Community College District",
    "{p} Medical Center", "{p} Housing Authority", "{p} Water District", "{p} Parks & Recreation",
    "{p} Regional Transit", "{s} Development Group", "{s} Properties", "{s} Family Trust", "{p} Partners",
    "{p} Hospitality Group", "{s} Holdings", "The {s} Company", "{p} Port Authority", "{s} & {s2} Builders",
    "{p} Library Foundation", "{p} Senior Living",
]
LEGAL_SUFFIXES = ["", "", "", "", ", Inc.", " Inc.", " LLC", ", LLC", " Ltd", " PC", ", PLLC", " LLP"]
SUFFIX_SWAPS = [", Inc.", ", Inc", " Inc.", " Inc", " LLC", ", LLC", " Ltd", " Ltd.", " Corp.", " PC"]

FACILITIES = [
    "Elementary School", "Middle School", "High School", "Public Library", "Fire Station No. {n}",
    "Police Headquarters", "City Hall", "Community Center", "Aquatic Center", "Medical Office Building",
    "Regional Medical Center", "Mixed-Use Tower", "Apartments", "Senior Housing", "Transit Center",
    "Parking Structure", "Wastewater Treatment Plant", "Water Reclamation Facility", "Pump Station No. {n}",
    "Bridge", "Corporate Campus", "Office Park", "Distribution Center", "Research Laboratory", "Science Building",
    "Student Union", "Residence Hall", "Sports Complex", "Civic Plaza", "Museum of Art", "Performing Arts Center",
    "Hotel & Conference Center", "Visitor Center", "Maintenance Facility", "Courthouse", "Animal Shelter",
    "Retail Center", "Streetscape", "Regional Park", "Trail Network", "Marina", "Airport Terminal",
    "Child Care Center", "Food Hall", "Clinic",
]
FACILITY_TYPE = {  # project type index into PROJECT_TYPES
    "School": 0, "Library": 1, "Fire": 1, "Police": 1, "City Hall": 1, "Community": 1, "Aquatic": 1,
    "Medical": 2, "Clinic": 2, "Senior": 4, "Apartments": 4, "Residence": 0, "Student": 0, "Science": 0,
    "Transit": 5, "Parking": 5, "Wastewater": 5, "Water": 5, "Pump": 5, "Bridge": 5, "Trail": 5, "Streetscape": 5,
    "Airport": 5, "Distribution": 6, "Maintenance": 6, "Laboratory": 6,
}
WORKS = [
    "Renovation", "Addition", "Modernization", "New Construction", "Expansion", "Seismic Retrofit",
    "Tenant Improvements", "Roof Replacement", "HVAC Upgrade", "Feasibility Study", "Master Plan",
    "ADA Improvements", "Structural Assessment", "Site Improvements", "Interior Remodel", "Facade Restoration",
    "Design-Build", "Condition Assessment", "Replacement", "Improvements",
]
LONG_WORKS = [
    "Structural Retrofit and Seismic Upgrade", "Envelope Repair & Window Replacement",
    "Mechanical, Electrical and Plumbing Upgrades", "Site Utilities & Stormwater Improvements",
    "Programming, Master Planning and Schematic Design", "Accessibility & Life-Safety Upgrades",
    "Interior Renovation and Furniture Procurement", "Parking, Circulation & Landscape Improvements",
    "Energy Retrofit and Solar Photovoltaic Array", "Kitchen and Dining Commons Renovation",
]
CLIENT_TYPES = ["Owner - Public", "Owner - Private", "Developer", "Architect", "Engineer", "Contractor"]
VENDOR_TYPES = [(1, "Engineering Consultant", True), (2, "Design Consultant", True), (3, "Supplier", False)]
PROJECT_TYPES = ["Education", "Civic", "Healthcare", "Commercial", "Residential", "Infrastructure", "Industrial"]
BILLING_TYPES = ["FixedFee", "TimeAndExpense", "PercentComplete", "PercentofConstructionCost"]
RATE_TABLES = [(1, "Standard Rates 2025"), (2, "Public Agency Rates")]
INVOICE_FORMATS = [(1, "Standard Invoice"), (2, "Progress Billing")]
PHASE_KEY_BASE = 100000  # phase keys never equal a project key, so ParentKey = ProjectKey stays unambiguous
STANDARD_PHASES = ["Schematic Design", "Design Development", "Construction Documents", "Bidding",
                   "Construction Administration"]
TEMPLATE_DEFS = [
    ("Standard A/E Services (5 Phase)", "FixedFee", STANDARD_PHASES),
    ("Civil Site Development", "TimeAndExpense", ["Survey & Due Diligence", "Schematic Design", "Entitlements",
                                          "Construction Documents", "Construction Administration"]),
    ("Feasibility Study / Master Plan", "TimeAndExpense", ["Programming", "Existing Conditions", "Concept Options",
                                                   "Final Report"]),
    ("Structural Engineering Services", "PercentComplete", ["Schematic Design", "Design Development",
                                                             "Construction Documents",
                                                             "Construction Administration"]),
    ("Interiors Tenant Improvement", "FixedFee", ["Programming", "Design Development",
                                                   "Construction Documents", "Construction Administration"]),
    ("Design-Build Bridging Documents", "PercentofConstructionCost", ["Bridging Documents", "Design Review",
                                                      "Construction Administration"]),
]
EMPLOYEE_TITLES = [
    "Principal", "Principal", "Associate Principal", "Project Manager", "Senior Project Manager",
    "Project Architect", "Project Architect", "Architect", "Designer", "Senior Designer", "Interior Designer",
    "Job Captain", "Architectural Intern", "Civil Engineer", "Structural Engineer", "Senior Structural Engineer",
    "Mechanical Engineer", "Electrical Engineer", "Landscape Architect", "BIM Manager", "CAD Technician",
    "Construction Administrator", "Marketing Coordinator", "Office Manager", "Accountant", "Specifications Writer",
]
CONTACT_TITLES = [
    "Facilities Director", "Owner's Representative", "Project Manager", "Principal", "Capital Projects Manager",
    "Director of Planning", "City Engineer", "Superintendent", "Purchasing Agent", "VP of Development",
    "Construction Manager", "Accounts Payable", "Executive Director", "Asset Manager", "President",
]
RESOURCE_ROLES = ["Project Architect", "Designer", "Engineer", "Drafter", "Construction Administrator",
                  "Interior Designer", "Specifications", "Technical Reviewer"]
CRM_STAGES = [("Lead", 10), ("Qualified", 25), ("Proposal", 40), ("Shortlisted", 60), ("Won", 100),
              ("Lost", 0), ("Do Not Pursue", 0)]

_BASE = datetime(2025, 1, 1)
_MOD_SPAN_MS = int((datetime(2026, 6, 30, 23, 59, 59) - _BASE).total_seconds() * 1000)
_CREATE_BASE = datetime(2018, 1, 1)


# ------------------------------------------------------------------------------------------ helpers


class _Registry:
    """Names already used in one name space, by ``normalize_name``."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def claim(self, name: str) -> bool:
        key = normalize_name(name)
        if not key or key in self.keys:
            return False
        self.keys.add(key)
        return True


# Ajera writes LastModifiedDate in the tenant's zone with the zone's name; the seed uses a few US zones
# (standard and daylight time), so the sync's date parsing sees every offset form.
_AJERA_ZONES = [(-300, "Eastern Standard Time"), (-240, "Eastern Daylight Time"), (-360, "Central Standard Time"),
                (-420, "Mountain Standard Time"), (-480, "Pacific Standard Time"), (-420, "Pacific Daylight Time")]


def _ajera_date(moment: datetime, zone: tuple[int, str] = (-300, "Eastern Standard Time")) -> str:
    """``moment`` (UTC) in Ajera's own form: "2023-09-27 09:57:49.607 GMT-04:00 (Eastern Daylight Time)"."""
    offset, name = zone
    local = moment + timedelta(minutes=offset)
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return f"{local:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} GMT{sign}{hours:02d}:{minutes:02d} ({name})"


_PHONE_BLOCK = ("PrimaryPhone", "SecondaryPhone", "TertiaryPhone", "Fax")
_ADDRESS_PARTS = ("LineOne", "LineTwo", "LineThree", "City", "State", "Zip", "Country")


def _phones(primary: str, fax: str = "", secondary: str = "") -> dict[str, str]:
    """The flat PHONE block; empty text is "" as Ajera returns it."""
    out = {f"{which}{part}": "" for which in _PHONE_BLOCK for part in ("Number", "Description")}
    out.update({"PrimaryPhoneNumber": primary, "PrimaryPhoneDescription": "Main" if primary else ""})
    if secondary:
        out.update({"SecondaryPhoneNumber": secondary, "SecondaryPhoneDescription": "Mobile"})
    if fax:
        out.update({"FaxNumber": fax, "FaxDescription": "Fax"})
    return out


def _address(line1: str, city: str, state: str, zip_code: str, line2: str = "",
             mailing: tuple[str, str, str, str] | None = None) -> dict[str, Any]:
    """The flat ADDR block: primary address, and a mailing address that is the same or another one."""
    out: dict[str, Any] = {}
    for prefix, (one, two, town, st, code) in (
        ("PrimaryAddress", (line1, line2, city, state, zip_code)),
        ("MailingAddress", (mailing[0], "", mailing[1], mailing[2], mailing[3]) if mailing else ("", "", "", "", "")),
    ):
        out.update({f"{prefix}LineOne": one, f"{prefix}LineTwo": two, f"{prefix}LineThree": "",
                    f"{prefix}City": town, f"{prefix}State": st, f"{prefix}Zip": code,
                    f"{prefix}Country": "United States" if one else ""})
    out["MailingAddressSameAsPrimary"] = mailing is None
    return out


def _crm_date(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}"


class _Gen:
    def __init__(self, seed: int, sizes: Sizes) -> None:
        self.rng = random.Random(seed)
        self.sizes = sizes
        self.firm_names = _Registry()
        self.people_names = _Registry()
        self.project_names = _Registry()
        self.project_short: set[str] = set()
        self.hex_used: set[str] = set()

    # ---- primitives
    def hex32(self) -> str:
        while True:
            value = f"{self.rng.getrandbits(128):032x}"
            if value not in self.hex_used:
                self.hex_used.add(value)
                return value

    def moment(self) -> datetime:
        return _BASE + timedelta(milliseconds=self.rng.randrange(_MOD_SPAN_MS))

    def ajera_mod(self) -> str:
        return _ajera_date(self.moment(), self.rng.choice(_AJERA_ZONES))

    def mailing(self, city: str, state: str, zip_code: str) -> tuple[str, str, str, str] | None:
        """Most records mail to their primary address; some to a PO box."""
        if self.rng.random() < 0.75:
            return None
        return (f"PO Box {self.rng.randint(100, 99999)}", city, state, zip_code)

    def crm_dates(self) -> tuple[str, str]:
        mod = self.moment()
        span = int((mod - _CREATE_BASE).total_seconds())
        created = _CREATE_BASE + timedelta(seconds=self.rng.randrange(max(span, 1)),
                                           milliseconds=self.rng.randrange(1000))
        return _crm_date(created), _crm_date(mod)

    def phone(self, area: str) -> str:
        return f"({area}) {self.rng.randint(200, 989)}-{self.rng.randint(0, 9999):04d}"

    def city(self) -> tuple[str, str, str, str]:
        return self.rng.choice(CITIES)

    # ---- names
    def firm_name(self, kind: str) -> str:
        """A new firm name, unique under normalize_name. kind: client | consultant | supplier."""
        rng = self.rng
        for _ in range(10000):
            if kind == "consultant":
                disc = rng.choice(CONSULTANT_DISCIPLINES)[0]
                lead = rng.choice([rng.choice(SURNAMES), rng.choice(PLACES),
                                   f"{rng.choice(SURNAMES)} & {rng.choice(SURNAMES)}"])
                name = f"{lead} {disc}{rng.choice(LEGAL_SUFFIXES)}"
            elif kind == "supplier":
                name = f"{rng.choice(PLACES + SURNAMES)} {rng.choice(SUPPLIER_KINDS)}{rng.choice(LEGAL_SUFFIXES)}"
            elif rng.random() < 0.6:
                form = rng.choice(OWNER_FORMS)
                s, s2 = rng.sample(SURNAMES, 2)
                name = form.format(p=rng.choice(PLACES), s=s, s2=s2)
                if "{s}" in form and "The " not in form and rng.random() < 0.5:
                    name += rng.choice(LEGAL_SUFFIXES)
            else:
                s, s2 = rng.sample(SURNAMES, 2)
                lead = rng.choice([f"{s} & {s2}", s, rng.choice(PLACES), f"{s} {s2}",
                                   rng.choice(["Greenline", "Bluestone", "Northbeam", "Keystone", "Brightwater",
                                               "Ironbridge", "Cornerstone", "Blackrock", "Tidewater"])])
                name = f"{lead} {rng.choice(DESIGN_DISCIPLINES)}{rng.choice(LEGAL_SUFFIXES)}"
            if len(name) <= 80 and self.firm_names.claim(name):
                return name
        raise RuntimeError("firm name space exhausted")

    def person(self, feature: str | None = None) -> tuple[str, str, str]:
        """A new (first, middle, last), unique under normalize_name of the full name."""
        rng = self.rng
        for _ in range(10000):
            first = rng.choice(FIRST_NAMES)
            last = rng.choice(SURNAMES)
            r = rng.random()
            middle = "" if r < 0.4 else (rng.choice(INITIALS) if r < 0.75 else rng.choice(MIDDLE_NAMES))
            if feature == "accent_first":
                first = rng.choice(ACCENTED_FIRST)[0]
            elif feature == "accent_last":
                last = rng.choice(ACCENTED_SURNAMES)[0]
            elif feature == "initial_period":
                middle = rng.choice(INITIALS) + "."
            elif feature == "hyphen":
                a, b = rng.sample(SURNAMES, 2)
                last = f"{a}-{b}"
            if self.people_names.claim(person_name(first, middle, last)):
                return first, middle, last
        raise RuntimeError("person name space exhausted")

    def project_name(self, long: bool | None = None, near_miss: bool = False) -> str:
        """A new project name, unique under normalize_name; ``near_miss`` leaves room for a variant and
        prefers names with punctuation or an ampersand to vary."""
        rng = self.rng
        max_len = AJERA_DESCRIPTION_MAX - 4 if near_miss else AJERA_DESCRIPTION_MAX
        featured = near_miss and rng.random() < 0.75
        if long is None:
            long = rng.random() < 0.22
        for _ in range(10000):
            place = rng.choice(PLACES)
            facility = rng.choice(FACILITIES).format(n=rng.randint(1, 24))
            if long:
                form = rng.random()
                if form < 0.55:
                    name = f"{place} {facility} — Phase {rng.randint(1, 4)} {rng.choice(LONG_WORKS)}"
                elif form < 0.8:
                    name = f"{place} {facility} {rng.choice(WORKS)}: {rng.choice(LONG_WORKS)}"
                else:
                    name = f"{rng.choice(SURNAMES)} Properties {facility} {rng.choice(LONG_WORKS)}"
                if not (CRM_NAME_MAX < len(name) <= max_len):
                    continue
            else:
                form = rng.random()
                if form < 0.25:
                    name = f"{place} {facility}"
                elif form < 0.9:
                    name = f"{place} {facility} {rng.choice(WORKS)}"
                else:
                    name = f"{rng.choice(SURNAMES)} {facility} {rng.choice(WORKS)}"
                if len(name) > CRM_NAME_MAX:
                    continue
            if featured and not any(mark in name for mark in ("&", "-", "—", "No. ", ":", ", ")):
                continue
            # the CRM short Name (cut to 40) must not collide either, so no unplanned duplicates appear
            short_key = normalize_name(name[:CRM_NAME_MAX].rstrip())
            if short_key in self.project_short:
                continue
            if self.project_names.claim(name):
                self.project_short.add(short_key)
                return name
        raise RuntimeError("project name space exhausted")

    # ---- variants
    def case_variant(self, name: str) -> str:
        rng = self.rng
        options = [name.upper(), name.lower(), name.title(),
                   " ".join(w.capitalize() if w.islower() else w for w in name.split(" "))]
        rng.shuffle(options)
        for option in options:
            if option != name and option.casefold() == name.casefold():
                return option
        raise RuntimeError(f"no case variant for {name!r}")

    def near_variant(self, name: str, kinds: list[str], max_len: int = AJERA_DESCRIPTION_MAX) -> tuple[str, str]:
        """(variant, kind): differs from ``name`` under casefold, equal under normalize_name."""
        rng = self.rng
        order = list(kinds)
        rng.shuffle(order)
        for kind in order + ["the"]:
            variant = _apply_near(kind, name, rng)
            if (variant and len(variant) <= max_len and variant.casefold() != name.casefold()
                    and normalize_name(variant) == normalize_name(name)):
                return variant, kind
        raise RuntimeError(f"no near-miss variant for {name!r}")


_SUFFIX_RE = re.compile(r"(,?\s+(Inc\.?|LLC|Ltd\.?|PC|PLLC|LLP|Corp\.?))$")


def _apply_near(kind: str, name: str, rng: random.Random) -> str | None:
    if kind == "amp_and":
        if " & " in name:
            return name.replace(" & ", " and ", 1)
        if " and " in name:
            return name.replace(" and ", " & ", 1)
        return None
    if kind == "suffix":
        match = _SUFFIX_RE.search(name)
        base = name[: match.start()] if match else name
        choices = [s for s in SUFFIX_SWAPS if base + s != name]
        if match:
            choices.append("")
        return base + rng.choice(choices)
    if kind == "the":
        return name[4:] if name.startswith("The ") else "The " + name
    if kind == "punct":
        for old, new in ((", Inc", " Inc"), ("Inc.", "Inc"), ("-", " "), ("No. ", "No "), (" — ", " - "),
                         (": ", " - "), (", ", " ")):
            if old in name:
                return name.replace(old, new, 1)
        return None
    if kind == "dash":
        if " — " in name:
            return name.replace(" — ", " - ", 1)
        if "-" in name:
            return name.replace("-", " ", 1)
        return None
    return None


def _allocate(n_a: int, n_c: int, exact: float, case: float, near: float, dups_a: int, dups_c: int,
              ) -> dict[str, int]:
    """Counts of each overlap kind so that Ajera uses n_a records and the CRM n_c."""
    n = min(n_a, n_c)
    counts = {"exact": round(n * exact), "case_only": round(n * case), "near_miss": round(n * near),
              "dup_a": dups_a, "dup_c": dups_c}
    if n >= 10:
        for k in ("exact", "case_only", "near_miss"):
            counts[k] = max(1, counts[k])

    def used() -> tuple[int, int]:
        shared = counts["exact"] + counts["case_only"] + counts["near_miss"]
        return (shared + 2 * counts["dup_a"] + counts["dup_c"], shared + counts["dup_a"] + 2 * counts["dup_c"])

    for k in ("dup_a", "dup_c", "near_miss", "case_only", "exact"):
        while counts[k] > 0 and (used()[0] > n_a or used()[1] > n_c):
            counts[k] -= 1
    ua, uc = used()
    counts["ajera_only"] = n_a - ua
    counts["crm_only"] = n_c - uc
    return counts


@dataclass
class _Slot:
    """One name (or name group) and the names it takes in each system."""

    kind: str  # exact | case_only | near_miss | dup_a | dup_c | ajera_only | crm_only
    a_names: list[Any]
    c_names: list[Any]
    detail: str = ""
    profile: dict[str, Any] = field(default_factory=dict)
    a_recs: list[dict[str, Any]] = field(default_factory=list)
    c_recs: list[dict[str, Any]] = field(default_factory=list)


def _slots(counts: dict[str, int], new_name: Callable[[str], Any], case: Callable[[Any], Any],
           near: Callable[[Any], tuple[Any, Any, str]]) -> list[_Slot]:
    """Build the slots. ``new_name(kind)`` makes a base name; ``near(base)`` returns (a, c, detail)."""
    slots: list[_Slot] = []
    for i in range(counts["exact"]):
        name = new_name("exact")
        slots.append(_Slot("exact", [name], [name]))
    for i in range(counts["case_only"]):
        name = new_name("case_only")
        variant = case(name)
        slots.append(_Slot("case_only", [name], [variant]) if i % 2 else _Slot("case_only", [variant], [name]))
    for i in range(counts["near_miss"]):
        a, c, detail = near(new_name("near_miss"))
        slots.append(_Slot("near_miss", [a], [c], detail))
    for i in range(counts["dup_a"]):
        name = new_name("dup")
        slots.append(_Slot("dup_a", [name, name], [name]))
    for i in range(counts["dup_c"]):
        name = new_name("dup")
        slots.append(_Slot("dup_c", [name], [name, name]))
    for i in range(counts["ajera_only"]):
        slots.append(_Slot("ajera_only", [new_name("ajera_only")], []))
    for i in range(counts["crm_only"]):
        slots.append(_Slot("crm_only", [], [new_name("crm_only")]))
    return slots


def _keys(rng: random.Random, n: int) -> list[int]:
    """Positive Ajera keys, handed out in a shuffled order (so the key does not give the overlap away)."""
    keys = list(range(1, n + 1))
    rng.shuffle(keys)
    return keys


def _notes(slots: list[_Slot], a_key: str, c_key: str, a_name: Callable[[dict], str],
           c_name: Callable[[dict], str]) -> dict[str, Any]:
    out: dict[str, Any] = {"exact": [], "case_only": [], "near_miss": [], "duplicates": [], "ajera_only": [],
                           "crm_only": []}
    for s in slots:
        if s.kind in ("exact", "case_only", "near_miss"):
            pair = {"ajera": s.a_recs[0][a_key], "crm": s.c_recs[0][c_key], "ajera_name": a_name(s.a_recs[0]),
                    "crm_name": c_name(s.c_recs[0])}
            if s.detail:
                pair["kind"] = s.detail
            out[s.kind].append(pair)
        elif s.kind in ("dup_a", "dup_c"):
            out["duplicates"].append({"side": "ajera" if s.kind == "dup_a" else "crm", "name": a_name(s.a_recs[0]),
                                      "ajera": [r[a_key] for r in s.a_recs], "crm": [r[c_key] for r in s.c_recs]})
        elif s.kind == "ajera_only":
            out["ajera_only"].append(s.a_recs[0][a_key])
        else:
            out["crm_only"].append(s.c_recs[0][c_key])
    return out


def _person_full(rec: dict[str, Any]) -> str:
    return person_name(rec.get("FirstName"), rec.get("MiddleName"), rec.get("LastName"))


def _domain(name: str) -> str:
    words = [w for w in normalize_name(name).split() if w not in ("and", "of", "city", "county")]
    return ("".join(words[:2]) or "example") + ".com"


# -------------------------------------------------------------------------------------------- generate


def generate(seed: int = 42, sizes: Sizes | None = None) -> World:
    """Build both systems' seed data. Deterministic in (seed, sizes)."""
    sizes = sizes or Sizes()
    g = _Gen(seed, sizes)
    rng = g.rng
    ajera: dict[str, list[dict[str, Any]]] = {}
    crm: dict[str, list[dict[str, Any]]] = {}
    notes: dict[str, Any] = {"seed": seed, "sizes": asdict(sizes)}

    # ------------------------------------------------------------------ templates
    templates = []
    for i in range(sizes.templates):
        desc, billing, phases = TEMPLATE_DEFS[i % len(TEMPLATE_DEFS)]
        if i >= len(TEMPLATE_DEFS):
            desc = f"{desc} ({i // len(TEMPLATE_DEFS) + 1})"
        rate_key, rate_name = RATE_TABLES[i % len(RATE_TABLES)]
        templates.append({  # the v1 project shape, keyed by ProjectTemplateKey
            "ProjectTemplateKey": i + 1, "ID": f"T{i + 1:02d}", "Description": desc, "BillingType": billing,
            "Status": "Active", "RateTableKey": rate_key, "RateTableDescription": rate_name, "CompanyKey": 1,
            "InvoiceGroups": [{
                "InvoiceGroupKey": i + 1, "Description": "Basic Services", "Client": None,
                "InvoiceFormatKey": INVOICE_FORMATS[0][0], "InvoiceFormatDescription": INVOICE_FORMATS[0][1],
                "Phases": [{"PhaseKey": PHASE_KEY_BASE // 2 + 10 * i + j, "ID": f"{j + 1:02d}", "Description": p,
                            "BillingType": billing, "Phases": []} for j, p in enumerate(phases)],
            }],
        })
    ajera["ProjectTemplates"] = templates

    # ------------------------------------------------------------------ firms (Ajera clients, CRM client firms)
    n = sizes.firms
    dups = max(1, round(n * 0.02)) if n >= 10 else 0
    firm_counts = _allocate(n, n, 0.40, 0.05, 0.10, (dups + 1) // 2, dups // 2)
    firm_slots = _slots(
        firm_counts,
        lambda kind: g.firm_name("client"),
        g.case_variant,
        lambda base: _near_pair(g, base, ["amp_and", "suffix", "suffix", "the", "punct"]),
    )
    a_keys = _keys(rng, sum(len(s.a_names) for s in firm_slots))
    clients: list[dict[str, Any]] = []
    firms: list[dict[str, Any]] = []
    client_codes = iter(range(1001, 1001 + 10 * n + 10))
    for s in firm_slots:
        city, state, zip3, area = g.city()
        type_idx = rng.randrange(6)
        address = f"{rng.randint(10, 9999)} {rng.choice(STREETS)}"
        zip_code = f"{zip3}{rng.randint(0, 99):02d}"
        phone = g.phone(area)
        for name in s.a_names:
            web = _domain(name)
            fax = g.phone(area) if rng.random() < 0.3 else ""
            rec = {
                "ClientKey": a_keys.pop(), "Description": name,
                "Status": "Inactive" if rng.random() < 0.08 else "Active",
                "ClientTypeKey": type_idx + 1, "ClientTypeDescription": CLIENT_TYPES[type_idx],
                "Email": f"info@{web}" if rng.random() < 0.9 else "", "Website": f"www.{web}" if rng.random() < 0.8 else "",
                **_phones(phone, fax), **_address(address, city, state, zip_code,
                                                  "Suite " + str(rng.randint(100, 900)) if rng.random() < 0.25 else "",
                                                  g.mailing(city, state, zip_code)),
                "Notes": "", "Contacts": [], "LastModifiedDate": g.ajera_mod(),
            }
            s.a_recs.append(rec)
            clients.append(rec)
        for name in s.c_names:
            web = _domain(name)
            created, modified = g.crm_dates()
            rec = {
                "ClientID": g.hex32(), "Client": f"{next(client_codes):06d}", "Name": name,
                "Status": "I" if rng.random() < 0.08 else "A", "ClientInd": "Y", "VendorInd": "N",
                "Type": CLIENT_TYPES[type_idx],
                "Address1": address, "City": city, "State": state, "Zip": zip_code,
                "Phone": phone if rng.random() < 0.8 else phone.replace("(", "").replace(") ", "-"),
                "Email": f"info@{web}", "WebSite": f"https://www.{web}",
                "AjeraSync": "Y" if rng.random() < 0.3 else "N",
                "CreateDate": created, "CreateUser": "ADMIN", "ModDate": modified, "ModUser": "ADMIN",
            }
            s.c_recs.append(rec)
            firms.append(rec)
    notes["firms"] = _notes(firm_slots, "ClientKey", "ClientID", lambda r: r["Description"], lambda r: r["Name"])
    # partner lookups for linking contacts / projects
    client_partner: dict[int, str] = {}
    for s in firm_slots:
        if s.kind in ("exact", "case_only", "near_miss"):
            client_partner[s.a_recs[0]["ClientKey"]] = s.c_recs[0]["ClientID"]
    clients_by_key = {c["ClientKey"]: c for c in clients}

    # ------------------------------------------------------------------ vendors (Ajera) / CRM vendor firms
    nv = sizes.vendors
    n_consult = round(nv * 0.75)
    n_supply = nv - n_consult
    vendor_counts = _allocate(n_consult, round(n_consult * 0.9), 0.45, 0.08, 0.12, 0,
                              1 if n_consult >= 10 else 0)
    vendor_slots = _slots(
        vendor_counts,
        lambda kind: g.firm_name("consultant"),
        g.case_variant,
        lambda base: _near_pair(g, base, ["amp_and", "suffix", "punct"]),
    )
    for _ in range(n_supply):
        vendor_slots.append(_Slot("ajera_only", [g.firm_name("supplier")], [], profile={"supplier": True}))
    v_keys = _keys(rng, sum(len(s.a_names) for s in vendor_slots))
    vendors: list[dict[str, Any]] = []
    vendor_discipline: dict[int, str] = {}
    for s in vendor_slots:
        city, state, zip3, area = g.city()
        phone = g.phone(area)
        supplier = s.profile.get("supplier", False)
        discipline = "Supplier"
        for disc_name, disc in CONSULTANT_DISCIPLINES:
            if disc_name in (s.a_names or s.c_names)[0]:
                discipline = disc
        for name in s.a_names:
            type_key, type_name, consultant = VENDOR_TYPES[
                2 if supplier else (0 if discipline in ("MEP", "Structural", "Civil") else 1)]
            zip_code = f"{zip3}{rng.randint(0, 99):02d}"
            rec = {
                "VendorKey": v_keys.pop(), "Name": name,
                "Status": "Inactive" if rng.random() < 0.05 else "Active",
                "VendorTypeKey": type_key, "VendorTypeDescription": type_name, "VendorTypeIsConsultant": consultant,
                "VendorTypeIsCreditCard": False, "Email": f"accounts@{_domain(name)}" if rng.random() < 0.85 else "",
                **_phones(phone), **_address(f"{rng.randint(10, 9999)} {rng.choice(STREETS)}", city, state, zip_code,
                                             mailing=g.mailing(city, state, zip_code)),
                "Receives1099Form": not supplier and rng.random() < 0.5, "LastModifiedDate": g.ajera_mod(),
            }
            vendor_discipline[rec["VendorKey"]] = discipline
            s.a_recs.append(rec)
            vendors.append(rec)
        for name in s.c_names:
            created, modified = g.crm_dates()
            web = _domain(name)
            rec = {
                "ClientID": g.hex32(), "Client": f"{next(client_codes):06d}", "Name": name, "Status": "A",
                "ClientInd": "N", "VendorInd": "Y", "Type": "Consultant",
                "Address1": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}", "City": city, "State": state,
                "Zip": f"{zip3}{rng.randint(0, 99):02d}", "Phone": phone, "Email": f"info@{web}",
                "WebSite": f"https://www.{web}", "AjeraSync": "N",
                "CreateDate": created, "CreateUser": "ADMIN", "ModDate": modified, "ModUser": "ADMIN",
            }
            s.c_recs.append(rec)
            firms.append(rec)
    notes["vendors"] = _notes(vendor_slots, "VendorKey", "ClientID", lambda r: r["Name"], lambda r: r["Name"])
    notes["vendors"]["suppliers"] = [s.a_recs[0]["VendorKey"] for s in vendor_slots if s.profile.get("supplier")]
    vendor_partner: dict[int, str] = {}
    for s in vendor_slots:
        if s.kind in ("exact", "case_only", "near_miss"):
            vendor_partner[s.a_recs[0]["VendorKey"]] = s.c_recs[0]["ClientID"]
    consultant_keys = sorted(v["VendorKey"] for v in vendors if v["VendorTypeIsConsultant"])

    # ------------------------------------------------------------------ employees
    ne = sizes.employees
    emp_counts = _allocate(ne, ne, 0.70, 0.05, 0.05, 0, 1 if ne >= 10 else 0)
    emp_slots = _slots(emp_counts, lambda kind: g.person(_person_feature(rng, kind)), lambda p: _person_case(g, p),
                       lambda p: _person_near(g, p))
    e_keys = _keys(rng, sum(len(s.a_names) for s in emp_slots))
    e_codes = _keys(rng, sum(len(s.c_names) for s in emp_slots))
    employees: list[dict[str, Any]] = []
    crm_employees: list[dict[str, Any]] = []
    for s in emp_slots:
        title = rng.choice(EMPLOYEE_TITLES)
        status_idx = 0 if rng.random() < 0.88 else (1 if rng.random() < 0.5 else 2)
        for first, middle, last in s.a_names:
            hired = date(2008, 1, 1) + timedelta(days=rng.randrange(16 * 365))
            # Ajera's documented statuses are Active and Inactive; a terminated employee is Inactive with a
            # termination date (docs/simulator-contract.md).
            terminated = hired + timedelta(days=rng.randint(200, 1500)) if status_idx == 2 else None
            rec = {
                "EmployeeKey": e_keys.pop(), "FirstName": first, "MiddleName": middle, "LastName": last,
                "Title": title, "Email": _email(first, last, "northbeam-ae.com"),
                "Status": "Active" if status_idx == 0 else "Inactive", "CompanyKey": 1,
                "DepartmentKey": rng.randint(1, 4), "IsPrincipal": "Principal" in title,
                "IsProjectManager": "Project Manager" in title, "DateHired": hired.isoformat(),
                "DateTerminated": terminated.isoformat() if terminated else None,
                **_phones(g.phone(rng.choice(CITIES)[3]) if rng.random() < 0.7 else ""),
                "LastModifiedDate": g.ajera_mod(),
            }
            s.a_recs.append(rec)
            employees.append(rec)
        for first, middle, last in s.c_names:
            created, modified = g.crm_dates()
            rec = {
                "Employee": f"{e_codes.pop():05d}", "EmployeeCompany": "01", "FirstName": first,
                "MiddleName": middle, "LastName": last, "Title": title,
                "EMail": _email(first, last, "northbeam-ae.com"), "Status": "AIT"[status_idx],
                "CreateDate": created, "CreateUser": "ADMIN", "ModDate": modified, "ModUser": "ADMIN",
            }
            s.c_recs.append(rec)
            crm_employees.append(rec)
    notes["employees"] = _notes(emp_slots, "EmployeeKey", "Employee", _person_full, _person_full)
    employee_partner = {s.a_recs[0]["EmployeeKey"]: s.c_recs[0]["Employee"] for s in emp_slots
                        if s.kind in ("exact", "case_only", "near_miss")}

    # ------------------------------------------------------------------ contacts
    nc = sizes.contacts
    con_counts = _allocate(nc, nc, 0.35, 0.05, 0.05, 0, max(1, round(nc * 0.01)) if nc >= 10 else 0)
    con_slots = _slots(con_counts, lambda kind: g.person(_person_feature(rng, kind)), lambda p: _person_case(g, p),
                       lambda p: _person_near(g, p))
    c_keys = _keys(rng, sum(len(s.a_names) for s in con_slots))
    paired_clients = sorted(client_partner)
    a_client_keys = sorted(clients_by_key)
    crm_client_firms = [f["ClientID"] for f in firms if f["ClientInd"] == "Y"]
    contacts: list[dict[str, Any]] = []
    crm_contacts: list[dict[str, Any]] = []
    sync_per_firm: dict[str, int] = {}
    # one firm is given enough flagged contacts to reach the cap exactly (the sync must respect it)
    cap_firm: str | None = None
    if paired_clients and nc >= 20:
        cap_client = rng.choice(paired_clients)
        cap_firm = client_partner[cap_client]
    for idx, s in enumerate(con_slots):
        title = rng.choice(CONTACT_TITLES)
        a_client: int | None = None
        c_firm: str | None = None
        if s.a_names and s.c_names and paired_clients:
            a_client = rng.choice(paired_clients)
            c_firm = client_partner[a_client]
            if cap_firm and idx < 8:
                a_client, c_firm = cap_client, cap_firm
        elif s.a_names and a_client_keys and rng.random() > 0.05:
            a_client = rng.choice(a_client_keys)
        if s.c_names and c_firm is None and crm_client_firms:
            c_firm = rng.choice(crm_client_firms)
        company = clients_by_key[a_client]["Description"] if a_client is not None else ""
        domain = _domain(company) if company else "gmail.com"
        area = rng.choice(CITIES)[3]
        phone = g.phone(area)
        for first, middle, last in s.a_names:
            rec = {
                "ContactKey": c_keys.pop(), "FirstName": first, "MiddleName": middle, "LastName": last,
                "Title": title, "Email": _email(first, last, domain) if rng.random() < 0.9 else "",
                **_phones(phone, secondary=g.phone(area) if rng.random() < 0.3 else ""),
                # Company is free text in Ajera: usually the firm's name, sometimes typed differently.
                "Company": company.upper() if company and rng.random() < 0.1 else company,
                "Status": "Inactive" if rng.random() < 0.07 else "Active", "LastModifiedDate": g.ajera_mod(),
            }
            if a_client is not None:  # the link lives on the client's Contacts[]
                holder = clients_by_key[a_client]["Contacts"]
                holder.append({"ContactKey": rec["ContactKey"], "Order": len(holder) + 1, "Text": ""})
            s.a_recs.append(rec)
            contacts.append(rec)
        for j, (first, middle, last) in enumerate(s.c_names):
            firm = c_firm if j == 0 or not crm_client_firms else rng.choice(crm_client_firms)
            want_sync = (cap_firm is not None and firm == cap_firm) or rng.random() < 0.3
            flagged = want_sync and firm is not None and sync_per_firm.get(firm, 0) < CONTACTS_SYNC_CAP
            if flagged:
                sync_per_firm[firm] = sync_per_firm.get(firm, 0) + 1
            created, modified = g.crm_dates()
            rec = {
                "ContactID": g.hex32(), "ClientID": firm, "FirstName": first, "MiddleName": middle,
                "LastName": last, "Title": title, "Email": _email(first, last, domain), "Phone": phone,
                "ContactStatus": "I" if rng.random() < 0.07 else "A", "AjeraSync": "Y" if flagged else "N",
                "CreateDate": created, "CreateUser": "ADMIN", "ModDate": modified, "ModUser": "ADMIN",
            }
            s.c_recs.append(rec)
            crm_contacts.append(rec)
    notes["contacts"] = _notes(con_slots, "ContactKey", "ContactID", _person_full, _person_full)

    # ------------------------------------------------------------------ projects
    np_ = sizes.projects
    pdups = max(1, round(np_ * 0.015)) if np_ >= 10 else 0
    proj_counts = _allocate(np_, np_, 0.40, 0.05, 0.08, (pdups + 1) // 2, pdups // 2)
    first_exact = [True]

    def new_project(kind: str) -> str:
        if kind == "exact" and first_exact[0]:
            first_exact[0] = False
            return g.project_name(long=True)
        return g.project_name(near_miss=kind == "near_miss")

    proj_slots = _slots(proj_counts, new_project, g.case_variant,
                        lambda base: _near_pair(g, base, ["amp_and", "punct", "dash", "dash"]))
    a_projects, c_projects, igs, phases, resources, grid_firms, grid_emps, timesheets = _build_projects(
        g, proj_slots, clients_by_key, client_partner, crm_client_firms, employees, employee_partner,
        crm_employees, consultant_keys, vendor_discipline, vendor_partner, crm_contacts, templates,
    )
    notes["projects"] = _notes(proj_slots, "ProjectKey", "WBS1", lambda r: r["Description"], lambda r: r["LongName"])
    notes["projects"]["long_names"] = [
        {"ajera": s.a_recs[0]["ProjectKey"], "crm": s.c_recs[0]["WBS1"], "description": s.a_recs[0]["Description"],
         "crm_name": s.c_recs[0]["Name"], "crm_long_name": s.c_recs[0]["LongName"], "kind": s.kind}
        for s in proj_slots
        if s.kind in ("exact", "case_only", "near_miss") and len(s.a_recs[0]["Description"]) > CRM_NAME_MAX
        and len(s.c_recs[0]["LongName"]) > CRM_NAME_MAX
    ]

    ajera.update({
        "Clients": sorted(clients, key=lambda r: r["ClientKey"]),
        "Contacts": sorted(contacts, key=lambda r: r["ContactKey"]),
        "Employees": sorted(employees, key=lambda r: r["EmployeeKey"]),
        "Vendors": sorted(vendors, key=lambda r: r["VendorKey"]),
        "Projects": a_projects, "InvoiceGroups": igs, "Phases": phases, "Resources": resources,
        "Timesheets": timesheets,
    })
    ajera["ProjectTemplates"] = ajera.pop("ProjectTemplates")
    crm.update({
        "firm": sorted(firms, key=lambda r: r["ClientID"]),
        "contact": sorted(crm_contacts, key=lambda r: r["ContactID"]),
        "employee": sorted(crm_employees, key=lambda r: r["Employee"]),
        "project": c_projects, "firmClient": grid_firms, "projectEmployee": grid_emps,
    })
    notes["flags"] = {
        "crm_firms_ajera_sync": sum(f["AjeraSync"] == "Y" for f in firms),
        "crm_contacts_ajera_sync": sum(c["AjeraSync"] == "Y" for c in crm_contacts),
        "crm_projects_ajera_sync": sum(p["AjeraSync"] == "Y" for p in c_projects),
        "crm_projects_with_template": sum(bool(p["ProjectTemplate"]) for p in c_projects),
        "ajera_projects_with_several_invoice_groups": sum(
            1 for n in _count_by(igs, "ProjectKey").values() if n > 1),
        "ajera_projects_sync_to_crm": sum(p["SyncToCRM"] for p in a_projects),
        "ajera_projects_create_in_crm": sum(p["CreateInCRM"] for p in a_projects),
        "ajera_projects_closed": sum(p["Status"] == "Closed" for p in a_projects),
        "contact_cap_firm": cap_firm,
    }
    return World(ajera=ajera, crm=crm, notes=notes)


def _near_pair(g: _Gen, base: str, kinds: list[str]) -> tuple[str, str, str]:
    variant, kind = g.near_variant(base, kinds)
    return (base, variant, kind) if g.rng.random() < 0.5 else (variant, base, kind)


def _person_feature(rng: random.Random, kind: str) -> str | None:
    if kind == "near_miss":
        return rng.choice(["accent_first", "accent_last", "initial_period", "hyphen"])
    return None


def _person_case(g: _Gen, p: tuple[str, str, str]) -> tuple[str, str, str]:
    first, middle, last = p
    options = [(first.upper(), middle.upper(), last.upper()), (first, middle, last.upper())]
    if any(c.isupper() for c in last[1:]):
        options.append((first, middle, last.capitalize()))
    if middle and middle != middle.lower():
        options.append((first, middle.lower(), last))
    rng = g.rng
    rng.shuffle(options)
    for option in options:
        if option != p:
            return option
    return (first.lower(), middle, last)


def _person_near(g: _Gen, p: tuple[str, str, str]) -> tuple[Any, Any, str]:
    first, middle, last = p
    for a, b in ACCENTED_FIRST:
        if first == a:
            variant, kind = (b, middle, last), "accent"
            break
    else:
        for a, b in ACCENTED_SURNAMES:
            if last == a:
                variant, kind = (first, middle, b), "accent"
                break
        else:
            if middle.endswith("."):
                variant, kind = (first, middle[:-1], last), "punct"
            elif "-" in last:
                variant, kind = (first, middle, last.replace("-", " ")), "punct"
            else:  # fall back: add a period after a middle initial or a hyphenless middle
                variant, kind = (first, (middle or "J") + ".", last), "punct"
    assert normalize_name(person_name(*variant)) == normalize_name(person_name(*p))
    return (p, variant, kind) if g.rng.random() < 0.5 else (variant, p, kind)


def _email(first: str, last: str, domain: str) -> str:
    def fold(text: str) -> str:
        text = unicodedata.normalize("NFKD", text)
        return "".join(ch for ch in text.lower() if ch.isalnum())

    return f"{fold(first)}.{fold(last)}@{domain}"


def _project_type(name: str) -> int:
    for word, idx in FACILITY_TYPE.items():
        if word in name:
            return idx
    return 3


def _build_projects(g: _Gen, slots: list[_Slot], clients_by_key: dict[int, dict], client_partner: dict[int, str],
                    crm_client_firms: list[str], employees: list[dict], employee_partner: dict[int, str],
                    crm_employees: list[dict], consultant_keys: list[int], vendor_discipline: dict[int, str],
                    vendor_partner: dict[int, str], crm_contacts: list[dict], templates: list[dict]):
    rng = g.rng
    a_client_keys = sorted(clients_by_key)
    paired_clients = sorted(client_partner)
    leaders = [e for e in employees if e["Status"] == "Active"
               and any(t in e["Title"] for t in ("Principal", "Project Manager", "Project Architect"))]
    if not leaders:
        leaders = list(employees)
    staff = [e for e in employees if e["Status"] != "Terminated"] or list(employees)
    principals = [e for e in leaders if "Principal" in e["Title"]] or leaders
    crm_codes = [e["Employee"] for e in crm_employees]
    contacts_by_firm: dict[str, list[str]] = {}
    for c in crm_contacts:
        if c["ClientID"]:
            contacts_by_firm.setdefault(c["ClientID"], []).append(c["ContactID"])

    def emp_ref(e: dict | None) -> dict | None:
        if e is None:
            return None
        return {k: e[k] for k in ("EmployeeKey", "FirstName", "MiddleName", "LastName")}

    # Ajera side first: specs sorted by start date get keys and IDs in that order.
    a_specs: list[tuple[date, int, _Slot, str]] = []
    c_specs: list[tuple[date, int, _Slot, str]] = []
    for s in slots:
        start = date(2019, 1, 1) + timedelta(days=rng.randrange(7 * 365))
        s.profile["start"] = start
        s.profile["same_number"] = rng.random() < 0.7
        for name in s.a_names:
            a_specs.append((start, len(a_specs), s, name))
        for name in s.c_names:
            c_specs.append((start, len(c_specs), s, name))
    a_specs.sort(key=lambda t: (t[0], t[1]))

    a_projects: list[dict] = []
    igs: list[dict] = []
    phases: list[dict] = []
    resources: list[dict] = []
    per_year: dict[int, int] = {}
    ig_key = res_key = 0
    phase_key = PHASE_KEY_BASE
    team_rows: list[dict] = []  # who worked on what, for the CRM's grids and the timesheets
    for pkey, (start, _, s, name) in enumerate(a_specs, start=1):
        year = start.year
        per_year[year] = per_year.get(year, 0) + 1
        pid = f"{year}-{per_year[year]:03d}.00"
        s.profile.setdefault("ids", []).append(pid)
        if s.c_names and paired_clients:
            client_key: int | None = rng.choice(paired_clients)
        else:
            client_key = rng.choice(a_client_keys) if a_client_keys else None
        s.profile.setdefault("client", client_key)
        status = rng.choices(["Active", "Closed", "Preliminary", "Hold", "WorkHold", "BillingHold", "Marketing"],
                             [60, 12, 8, 5, 3, 3, 9])[0]
        end = start + timedelta(days=rng.randint(90, 1100))
        fee = float(rng.randrange(15, 2500) * 1000)
        labor = round(fee * rng.uniform(0.55, 0.7), 2)
        consultant = round(fee * rng.uniform(0.1, 0.3), 2)
        pm = rng.choice(leaders) if leaders else None
        pic = rng.choice(principals) if principals else None
        only_ajera = not s.c_names
        sync = rng.random() < (0.6 if not only_ajera else 0.3)
        create = only_ajera and status not in ("Closed",) and rng.random() < 0.25
        city, state, _, _ = g.city()
        started = status not in ("Marketing", "Preliminary")
        estimated_end = end.isoformat() if status == "Closed" or rng.random() < 0.6 else None
        rate_key, rate_name = RATE_TABLES[rng.randrange(len(RATE_TABLES))]
        type_idx = _project_type(name)
        billing = rng.choice(BILLING_TYPES)
        rec = {
            "ProjectKey": pkey, "ID": pid, "Description": name, "Status": status,
            "SyncToCRM": sync or create, "CreateInCRM": create,
            "CRMFinalSync": status == "Closed" and rng.random() < 0.5, "CompanyKey": 1,
            "ProjectTypeKey": type_idx + 1, "ProjectTypeDescription": PROJECT_TYPES[type_idx],
            "ProjectManager": emp_ref(pm), "PrincipalInCharge": emp_ref(pic), "Location": f"{city}, {state}",
            "EstimatedStartDate": start.isoformat(), "EstimatedCompletionDate": estimated_end,
            "ActualStartDate": (start + timedelta(days=rng.randint(0, 30))).isoformat() if started else None,
            "ActualCompletionDate": end.isoformat() if status == "Closed" else None,
            "BillingType": billing, "RateTableKey": rate_key, "RateTableDescription": rate_name,
            "TotalContractAmount": fee, "LaborContractAmount": labor, "ConsultantContractAmount": consultant,
            "LaborCostBudget": round(labor * 0.4, 2), "ExpenseCostBudget": round(fee * 0.03, 2),
            "ConsultantCostBudget": round(consultant * 0.9, 2), "HoursCostBudget": round(labor / 150, 1),
            "LastModifiedDate": g.ajera_mod(),
        }
        s.profile.setdefault("status", status)
        s.profile.setdefault("pm", pm)
        s.profile.setdefault("pic", pic)
        s.profile.setdefault("fee", fee)
        s.profile.setdefault("end", estimated_end)
        s.a_recs.append(rec)
        a_projects.append(rec)

        # invoice groups, phases, resources
        if templates and rng.random() < 0.6:
            phase_names = [p["Description"] for p in rng.choice(templates)["InvoiceGroups"][0]["Phases"]]
        else:
            lo = rng.randrange(3)
            phase_names = STANDARD_PHASES[lo: rng.randint(lo + 1, len(STANDARD_PHASES))]
        n_groups = rng.choices([1, 2, 3], [75, 20, 5])[0]
        group_names = ["Basic Services", "Additional Services", "Reimbursable Expenses"][:n_groups]
        leaf_phases: list[dict] = []
        seq = 0
        for gi, gname in enumerate(group_names):
            ig_key += 1
            bill_to = client_key
            if gi and a_client_keys and rng.random() < 0.3:
                bill_to = rng.choice(a_client_keys)
            fmt_key, fmt_name = INVOICE_FORMATS[0 if gi == 0 else rng.randrange(len(INVOICE_FORMATS))]
            igs.append({"InvoiceGroupKey": ig_key, "ProjectKey": pkey, "ClientKey": bill_to, "Description": gname,
                        "InvoiceFormatKey": fmt_key, "InvoiceFormatDescription": fmt_name})
            for pname in (phase_names if gi == 0 else [gname]):
                seq += 1
                phase_key += 1
                phase = {"PhaseKey": phase_key, "ProjectKey": pkey, "InvoiceGroupKey": ig_key, "ParentKey": pkey,
                         "ID": f"{seq:02d}", "Description": pname, "Status": status, "BillingType": billing,
                         "RateTableKey": rate_key}
                phases.append(phase)
                if pname == "Construction Administration" and rng.random() < 0.3:
                    for k, sub in enumerate(["Submittals & RFIs", "Site Observation", "Closeout"], start=1):
                        phase_key += 1
                        child = {"PhaseKey": phase_key, "ProjectKey": pkey, "InvoiceGroupKey": ig_key,
                                 "ParentKey": phase["PhaseKey"], "ID": f"{seq:02d}.{k:02d}", "Description": sub,
                                 "Status": status, "BillingType": billing, "RateTableKey": rate_key}
                        phases.append(child)
                        leaf_phases.append(child)
                else:
                    leaf_phases.append(phase)
        if status in ("Marketing", "Preliminary"):
            continue
        team: list[tuple[dict, str]] = []
        if pm:
            team.append((pm, "Project Manager"))
        if pic and pic is not pm:
            team.append((pic, "Principal in Charge"))
        for e in rng.sample(staff, min(len(staff), rng.randint(0, 4))):
            if all(e is not t[0] for t in team):
                team.append((e, rng.choice(RESOURCE_ROLES)))
        for e, role in team:
            res_key += 1
            hours = round(rng.uniform(4, 1200), 1)
            first_entry = start + timedelta(days=rng.randint(0, 120))
            phase_of = rng.choice(leaf_phases)["PhaseKey"]
            resources.append({"ResourceKey": res_key, "PhaseKey": phase_of, "Description": role,
                              "ActivityType": "Labor", "EmployeeKey": e["EmployeeKey"], "Units": hours,
                              "CostRate": 85.0, "CostAmount": round(hours * 85.0, 2),
                              "ActualStartDate": first_entry.isoformat()})
            team_rows.append({"ProjectKey": pkey, "PhaseKey": phase_of, "Type": "Employee",
                              "EmployeeKey": e["EmployeeKey"], "Role": role, "Hours": hours,
                              "FirstEntryDate": first_entry.isoformat()})
        if consultant_keys and rng.random() < 0.45:
            for vk in rng.sample(consultant_keys, min(len(consultant_keys), rng.randint(1, 3))):
                res_key += 1
                first_entry = start + timedelta(days=rng.randint(0, 200))
                role = f"{vendor_discipline.get(vk, 'Consultant')} Consultant"
                amount = float(rng.randrange(5, 200) * 1000)
                phase_of = rng.choice(leaf_phases)["PhaseKey"]
                resources.append({"ResourceKey": res_key, "PhaseKey": phase_of, "Description": role,
                                  "ActivityType": "Consultant", "VendorKey": vk, "CostAmount": amount,
                                  "FeeAmount": round(amount * 1.1, 2),
                                  "ActualStartDate": first_entry.isoformat() if rng.random() < 0.7 else None})
                team_rows.append({"ProjectKey": pkey, "PhaseKey": phase_of, "Type": "Vendor", "VendorKey": vk,
                                  "Role": role, "Hours": 0.0,
                                  "FirstEntryDate": resources[-1]["ActualStartDate"]})

    # Planted: an Ajera-only closed project flagged for the CRM (closed projects sync only when asked).
    closed_flagged = [p for p in a_projects if p["Status"] == "Closed" and p["SyncToCRM"]]
    only = [s.a_recs[0] for s in slots if s.a_recs and not s.c_names]
    if only and not any(any(p is r for r in only) for p in closed_flagged):
        pick = only[-1]
        pick.update({"Status": "Closed", "SyncToCRM": True, "CreateInCRM": False,
                     "ActualCompletionDate": pick["EstimatedCompletionDate"] or pick["EstimatedStartDate"]})

    # CRM side
    res_by_project: dict[int, list[dict]] = {}
    for r in team_rows:
        res_by_project.setdefault(r["ProjectKey"], []).append(r)
    c_specs.sort(key=lambda t: (t[0], t[1]))
    used_wbs: set[str] = set()
    crm_seq = dict(per_year)
    c_projects: list[dict] = []
    grid_firms: list[dict] = []
    grid_emps: list[dict] = []
    template_keys = [str(t["ProjectTemplateKey"]) for t in templates]
    for start, _, s, name in c_specs:
        paired = bool(s.a_recs)
        wbs = None
        if paired and s.profile["same_number"]:
            candidate = s.profile["ids"][0].replace("-", "")
            if candidate not in used_wbs:
                wbs = candidate
        while wbs is None or wbs in used_wbs:
            crm_seq[start.year] = crm_seq.get(start.year, 0) + 1
            wbs = f"{start.year}{crm_seq[start.year]:03d}.00"
        used_wbs.add(wbs)
        a_rec = s.a_recs[0] if paired else None
        if a_rec and s.profile.get("client") in client_partner:
            client_id = client_partner[s.profile["client"]]
        else:
            client_id = rng.choice(crm_client_firms) if crm_client_firms else ""
        firm_contacts = contacts_by_firm.get(client_id, [])
        if a_rec:
            status = a_rec["Status"]
            stage = "Won" if status not in ("Marketing", "Preliminary") else rng.choice(["Proposal", "Shortlisted"])
            pm_code = employee_partner.get((a_rec["ProjectManager"] or {}).get("EmployeeKey"), "")
            pic_code = employee_partner.get((a_rec["PrincipalInCharge"] or {}).get("EmployeeKey"), "")
            fee = a_rec["TotalContractAmount"]
            end = a_rec["EstimatedCompletionDate"]
            crm_status = "I" if status == "Closed" else "A"
            sync = rng.random() < 0.6
        else:
            status = ""
            stage = rng.choice([st for st, _ in CRM_STAGES])
            pm_code = rng.choice(crm_codes) if crm_codes and rng.random() < 0.8 else ""
            pic_code = rng.choice(crm_codes) if crm_codes and rng.random() < 0.6 else ""
            fee = float(rng.randrange(15, 2500) * 1000)
            end = None
            crm_status = "D" if stage in ("Lost", "Do Not Pursue") else "A"
            sync = stage not in ("Lost", "Do Not Pursue") and rng.random() < 0.3
        template = ""
        if template_keys and ((not paired and sync and rng.random() < 0.7) or rng.random() < 0.05):
            template = rng.choice(template_keys)
        created, modified = g.crm_dates()
        rec = {
            "WBS1": wbs, "Name": name[:CRM_NAME_MAX].rstrip(), "LongName": name,
            "ChargeType": "P" if stage not in ("Won",) else "R", "Status": crm_status, "Stage": stage,
            "Probability": dict(CRM_STAGES)[stage], "ProjMgr": pm_code, "Principal": pic_code,
            "ClientID": client_id, "ContactID": rng.choice(firm_contacts) if firm_contacts and rng.random() < 0.6
            else "", "Fee": fee, "StartDate": start.isoformat(), "EndDate": end,
            "ProjectType": PROJECT_TYPES[_project_type(name)], "AjeraSync": "Y" if sync else "N",
            "ProjectTemplate": template, **dict.fromkeys(AJERA_PROJECT_FIELDS, 0.0),
            "CreateDate": created, "CreateUser": "ADMIN", "ModDate": modified, "ModUser": "ADMIN",
        }
        s.c_recs.append(rec)
        c_projects.append(rec)
        # sub-grids: owner and (some) consultants, team members, for a share of the projects
        if client_id and rng.random() < 0.5:
            grid_firms.append({"WBS1": wbs, "ClientID": client_id, "ClientInd": "Y", "VendorInd": "N",
                               "Role": "Owner", "PrimaryInd": "Y", "TeamStatus": "Active", "IsSubconsultant": "N"})
        if a_rec and s.kind != "dup_a":
            for r in res_by_project.get(a_rec["ProjectKey"], []):
                if r["Type"] == "Vendor" and r["VendorKey"] in vendor_partner and rng.random() < 0.5:
                    grid_firms.append({"WBS1": wbs, "ClientID": vendor_partner[r["VendorKey"]], "ClientInd": "N",
                                       "VendorInd": "Y", "Role": r["Role"], "PrimaryInd": "N",
                                       "TeamStatus": "Active", "IsSubconsultant": "Y"})
                elif (r["Type"] == "Employee" and r["EmployeeKey"] in employee_partner and rng.random() < 0.4):
                    grid_emps.append({"WBS1": wbs, "Employee": employee_partner[r["EmployeeKey"]],
                                      "Role": r["Role"], "CRMHours": round(r["Hours"] * rng.uniform(0.3, 1), 1),
                                      "StartDate": r["FirstEntryDate"]})
    c_projects.sort(key=lambda r: r["WBS1"])
    grid_firms = _dedupe_rows(grid_firms, "ClientID")
    grid_emps = _dedupe_rows(grid_emps, "Employee")
    return a_projects, c_projects, igs, phases, resources, grid_firms, grid_emps, _timesheets(g, team_rows)


def _timesheets(g: _Gen, team_rows: list[dict]) -> list[dict]:
    """Weekly timesheets (week starting Monday) for the employee rows: a few weeks of entries from each
    row's first entry date, merged per employee and week, as v2 GetTimesheets returns them."""
    rng = g.rng
    sheets: dict[tuple[int, str], dict] = {}
    for row in team_rows:
        if row["Type"] != "Employee":
            continue
        first = date.fromisoformat(row["FirstEntryDate"])
        monday = first - timedelta(days=first.weekday())
        for week in range(rng.randint(1, 4)):
            start = monday + timedelta(weeks=week * rng.randint(1, 3))
            key = (row["EmployeeKey"], start.isoformat())
            sheet = sheets.setdefault(key, {"EmployeeKey": row["EmployeeKey"], "TimesheetDate": start.isoformat(),
                                            "Submitted": rng.random() < 0.9, "Project": {"Detail": []}})
            detail: dict[str, Any] = {"Project Key": row["ProjectKey"], "Phase Key": row["PhaseKey"],
                                      "Activity Key": 1}
            first_day = first.weekday() + 1 if week == 0 else 1
            for day in range(1, 8):
                worked = day >= first_day and day <= 5 and rng.random() < 0.7
                detail[f"D{day} Regular"] = float(rng.choice([2, 4, 6, 8])) if worked or day == first_day else 0.0
                detail[f"D{day} Overtime"] = 1.0 if worked and rng.random() < 0.05 else 0.0
            sheet["Project"]["Detail"].append(detail)
    out = []
    for key, (_, sheet) in enumerate(sorted(sheets.items(), key=lambda item: (item[0][1], item[0][0])), start=1):
        out.append({"TimesheetKey": key, **sheet})
    return out


def _count_by(rows: list[dict], key: str) -> dict[Any, int]:
    counts: dict[Any, int] = {}
    for row in rows:
        counts[row[key]] = counts.get(row[key], 0) + 1
    return counts


def _dedupe_rows(rows: list[dict], key: str) -> list[dict]:
    seen: set[tuple[str, str]] = set()
    out = []
    for row in rows:
        k = (row["WBS1"], row[key])
        if k not in seen:
            seen.add(k)
            out.append(row)
    return out


# -------------------------------------------------------------------------------------------- summaries


def describe(world: World) -> dict[str, int]:
    """Record counts, e.g. ``{"ajera.Clients": 200, ..., "crm.firm": 227, ...}``."""
    out = {f"ajera.{k}": len(v) for k, v in world.ajera.items()}
    out.update({f"crm.{k}": len(v) for k, v in world.crm.items()})
    return out


def planted(world: World) -> dict[str, Any]:
    """What overlap was planted, per record type (see the module docstring), plus flag counts."""
    return world.notes


def planted_counts(world: World) -> dict[str, dict[str, int]]:
    """``planted`` reduced to counts per record type and kind."""
    out: dict[str, dict[str, int]] = {}
    for kind in ("firms", "vendors", "employees", "contacts", "projects"):
        out[kind] = {k: len(v) for k, v in world.notes[kind].items()}
    return out
