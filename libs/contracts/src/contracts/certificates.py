"""The certificate types (证照类型) every service names by code: the evidence catalogue's keys."""

from __future__ import annotations

CERTIFICATE_TYPES: dict[str, str] = {
    "id_card": "居民身份证",
    "hukou": "户口簿",
    "marriage_cert": "结婚证",
    "birth_medical_cert": "出生医学证明",
    "business_license": "营业执照",
    "property_cert": "不动产权证书",
    "social_insurance_cert": "社保参保证明",
    "elderly_card": "老年人优待证",
    "disability_card": "残疾人证",
    "veteran_card": "退役军人优待证",
    "construction_permit": "建设工程施工许可证",
    "residence_permit": "居住证",
    "food_business_license": "食品经营许可证",
    "death_cert": "居民死亡医学证明",
    "graduation_cert": "毕业证书",
}

# The one material 一证通办 still asks for: the applicant's own ID card.
IDENTITY_DOCUMENT = "id_card"
