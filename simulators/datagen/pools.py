"""Word pools of an architecture/engineering practice: places, people, firms, facilities, project work."""

from __future__ import annotations

from datetime import datetime

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

MODIFIED_FROM = datetime(2025, 1, 1)
MODIFIED_SPAN_MS = int((datetime(2026, 6, 30, 23, 59, 59) - MODIFIED_FROM).total_seconds() * 1000)
CREATED_FROM = datetime(2018, 1, 1)


