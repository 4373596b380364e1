"""The one table of SageMaker image URIs the SDK names: built-in algorithms and framework images.

opensage recognises an image by its repository and tag in any region, and pulls nothing;
the SDK still writes the URI SageMaker itself would use in the server's region (the same
account the SageMaker Python SDK's ``image_uris.retrieve`` picks), so requests and
Describe answers read exactly as they would on AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

# The ECR account of SageMaker's XGBoost and scikit-learn images, per region (one registry
# serves both). A region missing here gets us-east-1's: opensage accepts any account.
_FIRST_PARTY_ACCOUNTS = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "341280168497",
    "ca-west-1": "190319476487",
    "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-south-2": "104374241257",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}
_DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class ImageSpec:
    """One image family: its ECR repository, default version, and how a version becomes a tag."""

    repository: str
    default_version: str
    # Appended to the version to make the tag: scikit-learn's images are "<version>-cpu-py3".
    tag_suffix: str = ""


# Built-in algorithms, by the name users pass to Session.train.
ALGORITHMS: dict[str, ImageSpec] = {
    "xgboost": ImageSpec("sagemaker-xgboost", "1.7-1"),
}

# Frameworks for script mode, by the name users pass to Session.run_script.
FRAMEWORKS: dict[str, ImageSpec] = {
    "sklearn": ImageSpec("sagemaker-scikit-learn", "1.2-1", "-cpu-py3"),
    "xgboost": ImageSpec("sagemaker-xgboost", "1.7-1"),
}


def image_uri(spec: ImageSpec, region: str, version: str | None = None) -> str:
    """The image's URI in ``region``, e.g. ``683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1``."""
    account = _FIRST_PARTY_ACCOUNTS.get(region, _FIRST_PARTY_ACCOUNTS[_DEFAULT_REGION])
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    tag = (version or spec.default_version) + spec.tag_suffix
    return f"{account}.dkr.ecr.{region}.{domain}/{spec.repository}:{tag}"


def algorithm_image(name: str, region: str, version: str | None = None) -> str:
    """The training image of the built-in algorithm ``name``; ValueError names the known ones."""
    return image_uri(_lookup(ALGORITHMS, name, "built-in algorithm"), region, version)


def framework_image(name: str, region: str, version: str | None = None) -> str:
    """The image that runs a script with the framework ``name``; ValueError names the known ones."""
    return image_uri(_lookup(FRAMEWORKS, name, "framework"), region, version)


# Other spellings users reach for first.
_ALIASES = {"scikit-learn": "sklearn", "sk-learn": "sklearn"}


def _lookup(table: dict[str, ImageSpec], name: str, what: str) -> ImageSpec:
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in table:
        raise ValueError(f"Unknown {what} {name!r}; the SDK knows {', '.join(sorted(table))}")
    return table[key]
