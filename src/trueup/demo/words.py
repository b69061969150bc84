"""The demo company's vocabulary: names, streets, towns, services. Data, not logic.

Everything here is invented for the demo; the towns are real places in south-west Ohio so that
postcodes, area codes and addresses look like what a contractor there would export.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Branch:
    name: str
    area_code: str
    tax_rate: str  # a decimal fraction, exact
    towns: tuple[tuple[str, str], ...]  # (town, postcode)


@dataclass(frozen=True)
class ServiceLine:
    name: str
    season: tuple[float, ...]  # share of jobs per month, January first, before normalising
    jobs: tuple[tuple[str, int, bool], ...]  # (title, median price in dollars, starts as a CRM deal)


# fmt: off

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Christopher", "Nancy", "Daniel", "Lisa", "Matthew", "Margaret", "Anthony",
    "Betty", "Donald", "Sandra", "Steven", "Ashley", "Andrew", "Kimberly", "Joshua", "Emily",
    "Kenneth", "Donna", "Kevin", "Michelle", "Brian", "Carol", "Edward", "Amanda", "Ronald",
    "Melissa", "Timothy", "Deborah", "Jason", "Stephanie", "Jeffrey", "Rebecca", "Gary", "Laura",
    "Nicholas", "Katherine", "Eric", "Christine", "Jonathan", "Samantha", "Benjamin", "Victoria",
    "Gregory", "Alexandra", "Samuel", "Jacqueline", "Patrick", "Theresa", "Alexander", "Priya",
    "Wei", "Carlos", "Maria", "José", "Ahmed", "Fatima", "Hiroshi", "Olga", "Siobhan", "Raúl",
)

# Given name -> the short form somebody types in another system.
NICKNAMES = {
    "James": "Jim", "Robert": "Bob", "Patricia": "Patty", "John": "Jack", "Jennifer": "Jen",
    "Michael": "Mike", "William": "Bill", "Elizabeth": "Liz", "David": "Dave", "Richard": "Rick",
    "Susan": "Sue", "Joseph": "Joe", "Thomas": "Tom", "Charles": "Chuck", "Christopher": "Chris",
    "Daniel": "Dan", "Matthew": "Matt", "Margaret": "Peggy", "Anthony": "Tony", "Donald": "Don",
    "Steven": "Steve", "Andrew": "Andy", "Kimberly": "Kim", "Joshua": "Josh", "Kenneth": "Ken",
    "Edward": "Ed", "Amanda": "Mandy", "Ronald": "Ron", "Timothy": "Tim", "Deborah": "Deb",
    "Jeffrey": "Jeff", "Nicholas": "Nick", "Katherine": "Kate", "Jonathan": "Jon",
    "Samantha": "Sam", "Benjamin": "Ben", "Victoria": "Vicky", "Gregory": "Greg",
    "Alexandra": "Alex", "Samuel": "Sam", "Jacqueline": "Jackie", "Patrick": "Pat",
    "Theresa": "Terry", "Alexander": "Alex",
}

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner",
    "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales",
    "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey",
    "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks",
    "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
    "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "O'Brien",
    "McAllister", "Van Buren", "Schneider", "Kowalski", "Yamamoto", "Okafor", "Lindqvist",
)

COMPANY_KINDS = (
    "Dental", "Family Dentistry", "Properties", "Realty", "Bakery", "Auto Repair", "Law Office",
    "Veterinary Clinic", "Pharmacy", "Hardware", "Fitness", "Day Care", "Church", "Diner",
    "Apartments", "Insurance", "Salon", "Brewing Co", "Storage", "Medical Group",
)
COMPANY_SUFFIXES = ("", "", " LLC", " Inc", " Inc.", " Co")

STREETS = (
    "Maple", "Oak", "Cedar", "Elm", "Pine", "Walnut", "Chestnut", "Hickory", "Sycamore", "Willow",
    "Washington", "Lincoln", "Jefferson", "Madison", "Monroe", "Jackson", "Adams", "Wayne",
    "Main", "High", "Church", "Mill", "Spring", "Water", "Market", "Park", "Lake", "River",
    "Hillcrest", "Ridgeway", "Fairview", "Meadow", "Orchard", "Sunset", "Woodland", "Forest",
    "Kettering", "Wilmington", "Far Hills", "Stroop", "Shroyer", "Whipp", "Dorothy", "Brown",
    "Patterson", "Salem", "Troy", "Xenia", "Linden", "Burkhardt", "Smithville", "Wyoming",
)
# (what the owner system writes, the abbreviation another system uses)
STREET_TYPES = (
    ("Street", "St"), ("Avenue", "Ave"), ("Road", "Rd"), ("Drive", "Dr"), ("Lane", "Ln"),
    ("Court", "Ct"), ("Boulevard", "Blvd"), ("Place", "Pl"), ("Circle", "Cir"), ("Parkway", "Pkwy"),
)

# The three branches: towns with their postcodes, the area code, the sales tax rate.
BRANCHES = (
    Branch(
        name="Dayton",
        area_code="937",
        tax_rate="0.0725",
        towns=(("Dayton", "45402"), ("Dayton", "45405"), ("Dayton", "45409"), ("Kettering", "45429"),
                  ("Oakwood", "45419"), ("Beavercreek", "45431"), ("Huber Heights", "45424")),
    ),
    Branch(
        name="Springfield",
        area_code="937",
        tax_rate="0.0725",
        towns=(("Springfield", "45502"), ("Springfield", "45503"), ("Springfield", "45505"),
                  ("Enon", "45323"), ("New Carlisle", "45344"), ("Yellow Springs", "45387")),
    ),
    Branch(
        name="Cincinnati",
        area_code="513",
        tax_rate="0.0780",
        towns=(("Cincinnati", "45202"), ("Cincinnati", "45208"), ("Cincinnati", "45211"),
                  ("Norwood", "45212"), ("Blue Ash", "45242"), ("Mason", "45040"), ("Loveland", "45140")),
    ),
)
BRANCH_WEIGHTS = (0.45, 0.2, 0.35)

TECHNICIAN_FIRST = (
    "Marcus", "Dale", "Tyrone", "Luis", "Hank", "Brandon", "Cody", "Derek", "Ivan", "Shane",
    "Travis", "Wes", "Andre", "Gus", "Nate", "Rosa", "Tasha", "Kyle", "Omar", "Zach",
)
OFFICE_STAFF = ("Dana Whitfield", "Marco Ruiz", "Kelly Brandt", "Sam Okoye")  # CRM owners, billing clerks

EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "aol.com", "icloud.com", "hotmail.com", "att.net")

# Service lines: name, share of jobs per month (Jan..Dec, before normalising), and job types as
# (title, the median price in dollars, whether it is a big-ticket sale that starts as a CRM deal).
SERVICE_LINES = (
    ServiceLine(
        name="Heating & Cooling",
        season=(1.6, 1.4, 1.0, 0.8, 0.9, 1.4, 1.7, 1.6, 1.0, 1.0, 1.3, 1.6),
        jobs=(
            ("Furnace repair", 420, False), ("AC repair", 480, False), ("No heat call", 350, False),
            ("Furnace tune-up", 129, False), ("AC tune-up", 129, False),
            ("Furnace replacement", 5800, True), ("Central AC install", 7200, True),
            ("Heat pump install", 9400, True), ("Ductwork repair", 900, False),
        ),
    ),
    ServiceLine(
        name="Plumbing",
        season=(1.3, 1.3, 1.1, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.2),
        jobs=(
            ("Drain cleaning", 240, False), ("Leak repair", 310, False),
            ("Water heater replacement", 2100, True), ("Sump pump replacement", 950, False),
            ("Frozen pipe repair", 460, False), ("Tankless water heater install", 4300, True),
            ("Fixture install", 380, False),
        ),
    ),
    ServiceLine(
        name="Electrical",
        season=(0.9, 0.9, 1.0, 1.1, 1.1, 1.1, 1.2, 1.1, 1.0, 1.0, 0.9, 1.0),
        jobs=(
            ("Outlet and switch repair", 220, False), ("Panel upgrade", 3200, True),
            ("EV charger install", 1900, True), ("Whole-home generator install", 11500, True),
            ("Lighting install", 560, False), ("Troubleshooting visit", 180, False),
        ),
    ),
)
SHARE_OF_LINES = (0.5, 0.3, 0.2)
PLAN_VISIT = ("Comfort Club maintenance visit", 0)  # covered by the plan: no charge, no invoice

# Invoice line items: labour and parts split the job's price; a trip charge and discounts vary.
TRIP_CHARGE = "89.00"
DISCOUNTS = ("Comfort Club member discount", "Senior discount", "Seasonal promotion")

PAYMENT_METHODS = ("Visa", "Mastercard", "Check", "ACH", "Cash", "American Express")

ENGAGEMENT_SUBJECTS = {
    "CALL": ("Inbound call: {job}", "Follow-up call about estimate", "Left voicemail", "Scheduling call"),
    "EMAIL": ("Estimate for {job}", "Re: your service appointment", "Financing options", "Thank you for choosing us"),
    "MEETING": ("In-home estimate: {job}", "Site walk-through", "Comfort consultation"),
    "NOTE": ("Customer prefers morning appointments", "Dog on premises", "Gate code on file", "Asked about maintenance plan"),
}
LEAD_SOURCES = ("Google", "Referral", "Yelp", "Repeat customer", "Facebook", "Yard sign", "Angi")
