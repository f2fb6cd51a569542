"""Made-up Wucheng residents and enterprises with certificates (valid GB 11643 / GB 32100 numbers)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from govcodes.creditcode import check_char as credit_check
from govcodes.idnumber import check_char as id_check

from servicekit.masking import mask_id

REGION = "330702"


def id_number(born: date, seq: int, region: str = REGION) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check(first17)


def credit_code(org: str) -> str:
    first17 = f"913307{org}"
    return first17 + credit_check(first17)


@dataclass
class Person:
    name: str
    sex: str  # 男 / 女
    born: date
    seq: int
    traits: set[str] = field(default_factory=set)
    spouse: str | None = None
    region: str = REGION

    @property
    def id(self) -> str:
        # GB 11643: the sequence's last digit is odd for men, even for women.
        seq = self.seq * 2 + (1 if self.sex == "男" else 0)
        return id_number(self.born, seq % 1000, self.region)


# 王建国 is the gateway's demo citizen. A few certificates are unusable on purpose, to show each
# refusal: an expired ID card, a stale 社保参保证明, a disability card without consent.
STORIES = [
    Person("王建国", "男", date(1950, 3, 15), 0, {"married", "property", "insured", "veteran"}, "李秀英"),
    Person("李秀英", "女", date(1952, 8, 21), 5, {"married", "insured"}, "王建国"),
    Person("王立新", "男", date(1978, 6, 2), 7, {"married", "property", "insured", "graduate"}, "陈静"),
    Person("陈静", "女", date(1980, 11, 11), 12, {"married", "insured"}, "王立新"),
    Person("王子涵", "女", date(2019, 5, 20), 3, {"newborn"}),
    Person("赵敏", "女", date(1975, 3, 3), 21, {"disabled", "consented", "insured"}),
    Person("孙国强", "男", date(1948, 12, 12), 9, {"disabled", "veteran"}),
    Person("周丽华", "女", date(1960, 4, 18), 33, {"stale_insurance"}),
    Person("吴海涛", "男", date(1970, 9, 9), 41, {"expired_id", "property"}),
    Person("刘洋", "男", date(1990, 7, 30), 17, {"resident", "insured"}, region="330782"),
]
_SURNAMES = "张李陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "霞",
]
ENTERPRISES = [
    ("婺城区宏达建设工程有限公司", "有限责任公司", {"construction"}),
    ("金华市婺城区康乐餐饮店", "个体工商户", {"food"}),
    ("浙江婺州农业科技有限公司", "有限责任公司", set()),
    ("金华市八咏文化传媒有限公司", "有限责任公司", set()),
    ("婺城区兴旺建材商行", "个人独资企业", {"revoked"}),
    ("金华市婺城区鲜味食品有限公司", "有限责任公司", {"food"}),
    ("浙江金婺建筑安装有限公司", "有限责任公司", {"construction"}),
    ("金华市婺城区安居物业管理有限公司", "有限责任公司", set()),
    ("婺城区顺心家政服务部", "个体工商户", set()),
    ("金华市古子城旅游开发有限公司", "有限责任公司", set()),
    ("浙江双龙洞茶业有限公司", "有限责任公司", {"food"}),
    ("金华市婺城区智造机械有限公司", "有限责任公司", set()),
]


def people(count: int = 30) -> list[Person]:
    """The story people plus generated neighbours, the same every run."""
    rng = random.Random(330702)
    result = list(STORIES)
    for i in range(count - len(STORIES)):
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 65))
        traits = {t for t in ("insured", "property", "married", "graduate") if rng.random() < 0.5}
        name = _SURNAMES[i % len(_SURNAMES)] + rng.choice(_GIVEN)
        result.append(Person(name, rng.choice("男女"), born, 100 + i * 3, traits))
    return result


@dataclass(frozen=True)
class Issued:
    certificate_type: str
    number: str
    subject_id: str
    holder_name: str
    issuer_code: str
    issued_on: date
    valid_until: date | None
    fields: dict[str, str]
    status: str = "valid"


def _issue(
    kind: str, number: str, p: Person, issuer: str, on: date, until: date | None, **fields: str
) -> Issued:
    return Issued(kind, number, p.id, p.name, issuer, on, until, fields)


def _person_certificates(p: Person, n: int, today: date, by_name: dict[str, Person]) -> list[Issued]:
    age = (today - p.born).days // 365
    address = f"浙江省金华市婺城区城东街道{n % 40 + 1}号"
    card_on = today - timedelta(days=400 + n * 37)
    card_until = None if age >= 46 else card_on + timedelta(days=3650 if age >= 26 else 1825)
    if "expired_id" in p.traits:
        card_on, card_until = today - timedelta(days=3700), today - timedelta(days=50)
    born = p.born.isoformat()
    out = [
        _issue("id_card", p.id, p, "wc-gafj", card_on, card_until, name=p.name, sex=p.sex, ethnicity="汉",
               birth_date=born, address=address, issuing_authority="金华市公安局婺城分局"),
    ]  # fmt: skip
    if p.region == REGION:
        out.append(_issue("hukou", f"婺户{n:08d}", p, "wc-gafj", p.born + timedelta(days=30), None,
                          household_head=p.name, relationship="户主", household_type="家庭户", address=address))  # fmt: skip
    spouse = by_name.get(p.spouse or "")
    if "married" in p.traits and age >= 22:
        on = max(p.born + timedelta(days=365 * 24), date(1975, 5, 1))
        out.append(_issue("marriage_cert", f"J330702-{on.year}-{n:06d}", p, "wc-mzj", on, None,
                          spouse_name=spouse.name if spouse else "配偶", spouse_id_mask=mask_id(spouse.id) if spouse else "",
                          registered_on=on.isoformat(), registry="金华市婺城区民政局婚姻登记处"))  # fmt: skip
    if "property" in p.traits and age >= 25:
        out.append(_issue("property_cert", f"浙(2021)金华市不动产权第{n:07d}号", p, "jh-bdcdj", date(2021, 6, 1), None,
                          location=f"婺城区宾虹路{n + 100}号{n % 18 + 1}幢", unit_number=f"330702001001GB{n:05d}F0001",
                          usage="城镇住宅用地/住宅", area=f"{80 + n % 60}.5平方米", ownership="单独所有"))  # fmt: skip
    if ("insured" in p.traits and age >= 18) or "stale_insurance" in p.traits:
        on = today - timedelta(days=200 if "stale_insurance" in p.traits else 3)
        employer = "金华市婺城区宏达建设工程有限公司" if age < 60 else "退休"
        out.append(_issue("social_insurance_cert", f"婺社证{on.year}{n:06d}", p, "wc-rsj", on, None,
                          insurance_types="养老、医疗、失业、工伤", employer=employer,
                          months=str(min(age - 18, 40) * 12), status="正常参保"))  # fmt: skip
    if age >= 60:
        out.append(_issue("elderly_card", f"浙老优{n:08d}", p, "wc-mzj", p.born + timedelta(days=365 * 60 + 30), None,
                          name=p.name, birth_date=born, address=address))  # fmt: skip
    if "disabled" in p.traits:
        out.append(_issue("disability_card", f"{p.id}42", p, "wc-cl", today - timedelta(days=700),
                          today + timedelta(days=2950), category="肢体残疾", grade="二级"))  # fmt: skip
    if "veteran" in p.traits:
        out.append(_issue("veteran_card", f"330702{n:08d}", p, "wc-tyjrj", date(2022, 8, 1), None, category="退役军人",
                          enlisted_on=f"{p.born.year + 18}-12", discharged_on=f"{p.born.year + 23}-03"))  # fmt: skip
    if "newborn" in p.traits:
        out.append(_issue("birth_medical_cert", f"Q33{n:07d}", p, "wc-wjj", p.born, None, birth_date=born,
                          birth_place="浙江省金华市婺城区", mother_name="陈静", father_name="王立新",
                          institution="金华市妇幼保健院"))  # fmt: skip
    if "graduate" in p.traits and age >= 22:
        year = p.born.year + 22
        out.append(_issue("graduation_cert", f"10345{year}{n:08d}", p, "wc-jyj", date(year, 6, 30), None,
                          school="浙江师范大学", major="汉语言文学", level="本科",
                          graduated_on=f"{year}-06-30"))  # fmt: skip
    if "resident" in p.traits:
        out.append(_issue("residence_permit", f"330702{n:010d}", p, "wc-gafj", today - timedelta(days=90),
                          today + timedelta(days=275), address=address))  # fmt: skip
    return out


def _enterprise_certificates(i: int, name: str, kind: str, traits: set[str], today: date) -> list[Issued]:
    code = credit_code(f"02MA2{i:04d}K{i % 10}")
    firm = Person(name, "男", date(2000, 1, 1), 0)
    status = "revoked" if "revoked" in traits else "valid"
    founded = date(2015 + i % 9, 3, 1 + i)
    licence = _issue("business_license", code, firm, "wc-scjgfj", founded, None, name=name, type=kind,
                     legal_representative=_SURNAMES[i] + _GIVEN[i], registered_capital=f"{(i + 1) * 100}万元人民币",
                     established_on=founded.isoformat(), address=f"浙江省金华市婺城区八一南街{200 + i}号",
                     scope="一般项目：技术服务；货物进出口")  # fmt: skip
    out = [replace(licence, status=status)]
    if "construction" in traits:
        out.append(_issue("construction_permit", f"3307022025{i:02d}0101", firm, "wc-zjj", today - timedelta(days=60),
                          None, project_name=f"婺城新城区安置房{i}号地块工程", location="金华市婺城区城西街道",
                          scale="建筑面积35000平方米", contract_price="8600万元", builder=name))  # fmt: skip
    if "food" in traits:
        out.append(_issue("food_business_license", f"JY1330702{i:07d}", firm, "wc-scjgfj", today - timedelta(days=300),
                          today + timedelta(days=1525), operator=name, main_business="餐饮服务经营者",
                          scope="热食类食品制售"))  # fmt: skip
    return [replace(c, subject_id=code) for c in out]


def certificates(today: date) -> list[Issued]:
    everyone = people()
    by_name = {p.name: p for p in STORIES}
    issued = [c for n, p in enumerate(everyone, start=1) for c in _person_certificates(p, n, today, by_name)]
    for i, (name, kind, traits) in enumerate(ENTERPRISES, start=1):
        issued += _enterprise_certificates(i, name, kind, traits, today)
    return issued


def consenting_subjects() -> list[tuple[str, str]]:
    """(subject id, certificate type) of consents the demo starts with."""
    return [(p.id, "disability_card") for p in STORIES if "consented" in p.traits]
