"""Sample inputs shared by the integration, end-to-end and benchmark suites: one real
village (Bajur, Lombok Barat) and the evidence that makes it eligible under the seed rules."""

BAJUR = "52.01.08.2006"
MINISTRY = {"id": "kemen-1", "role": "ministry", "region": ""}   # RPC actor context
ELIGIBLE = {"indicators": {
    "poverty_rate": "31.5", "slum_area": {"present": True, "hectares": "12.4"},
    "bookkeeping_rating": "memadai", "voter_turnout": "42", "fund_misuse_cases": 0,
    "pemda_priority": {"prioritised": True, "decree_reference": "SK Bupati 050/12/2024"}},
    "source_document": "BPS Lombok Barat 2024", "observed_on": "2024-06-30"}
TIPP = [{"name": "Baiq Siti", "sex": "P", "role": "ketua"},
        {"name": "Lalu Ahmad", "sex": "L", "role": "anggota"}]
