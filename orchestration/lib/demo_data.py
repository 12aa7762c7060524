"""Seeded, realistic demo CRM exports in the layout of a vendor profile, optionally with counted defects.

Customers behave the way BTYD models assume: per-customer purchase rates (Gamma) and dropout
probabilities (Beta) as in BG/NBD, per-customer spend levels as in Gamma-Gamma, histories of up to
four years before `end_date`. Headers and value vocabularies come from the profile YAML.

Rendering is vectorised numpy: every column becomes NUL-padded byte blocks (one row per record), a
file chunk is the row-major concatenation of those blocks with the padding dropped. GB18030, UTF-8,
CSV and JSON Lines therefore cost the same and no Python loop runs over data rows (except the few
hundred catalogue rows written to XLSX).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path

import numpy as np

from orchestration.lib.schema import ENTITIES, VendorProfile, load_profiles

MANIFEST_NAME = "_demo_manifest.json"
CHUNK_CUSTOMERS = 100_000
RENDER_ROWS = 250_000
HISTORY_DAYS = 4 * 365
DAY_SECONDS = 86_400
MAX_CUSTOMERS = 50_000_000
DEFECT_RATE = 0.0005  # per defect kind and file; the first chunk always gets at least one

# Defects that make a row unloadable (quarantined by ingest) and those that load but are dirty.
UNLOADABLE_DEFECTS = ("blank_id", "unparseable_date", "non_numeric_amount", "wrong_column_count")
LOADABLE_DEFECTS = (
    "exact_duplicate",
    "negative_amount",
    "unknown_currency",
    "orphan_order",
    "stray_whitespace",
    "mixed_case_email",
)
BAD_DATES = ("2025-02-30", "2025-13-01", "31.04.2024", "not a date")
BAD_AMOUNTS = ("TBD", "#VALUE!", "12O.50", "n/a")
UNKNOWN_CURRENCIES = ("XYZ", "ZZZ", "ABC")

# ---------------------------------------------------------------------------------------------
# Vocabularies, as `|`-separated text tables (rows separated by newlines or `;`).


def _table(text: str) -> tuple[tuple[str, ...], ...]:
    rows = [row for line in text.strip().splitlines() for row in line.split(";")]
    return tuple(tuple(part.strip() for part in row.split("|")) for row in rows if row.strip())


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


@dataclass(frozen=True)
class City:
    country: str  # ISO 3166-1 alpha-2
    province_en: str
    province_zh: str
    city_en: str
    city_zh: str  # short form; Chinese exports add 市
    tier: str  # China: "1", "new 1", "2", "3"; elsewhere ""
    weight: float


_CHINA_TIER_WEIGHTS = {"1": 6.0, "new 1": 2.5, "2": 1.2, "3": 0.5}
CHINA_CITIES: tuple[City, ...] = tuple(
    City("CN", province_en, province_zh, city_en, city_zh, tier, _CHINA_TIER_WEIGHTS[tier])
    for tier, province_en, province_zh, city_en, city_zh in _table(
        """
        1|Beijing|北京市|Beijing|北京; 1|Shanghai|上海市|Shanghai|上海
        1|Guangdong|广东省|Guangzhou|广州; 1|Guangdong|广东省|Shenzhen|深圳
        new 1|Sichuan|四川省|Chengdu|成都; new 1|Zhejiang|浙江省|Hangzhou|杭州; new 1|Hubei|湖北省|Wuhan|武汉
        new 1|Chongqing|重庆市|Chongqing|重庆; new 1|Jiangsu|江苏省|Nanjing|南京; new 1|Tianjin|天津市|Tianjin|天津
        new 1|Jiangsu|江苏省|Suzhou|苏州; new 1|Shaanxi|陕西省|Xi'an|西安; new 1|Hunan|湖南省|Changsha|长沙
        new 1|Liaoning|辽宁省|Shenyang|沈阳; new 1|Shandong|山东省|Qingdao|青岛; new 1|Henan|河南省|Zhengzhou|郑州
        new 1|Guangdong|广东省|Dongguan|东莞; new 1|Guangdong|广东省|Foshan|佛山; new 1|Anhui|安徽省|Hefei|合肥
        2|Zhejiang|浙江省|Ningbo|宁波; 2|Yunnan|云南省|Kunming|昆明; 2|Jiangsu|江苏省|Wuxi|无锡
        2|Fujian|福建省|Xiamen|厦门; 2|Shandong|山东省|Jinan|济南; 2|Fujian|福建省|Fuzhou|福州
        2|Liaoning|辽宁省|Dalian|大连; 2|Heilongjiang|黑龙江省|Harbin|哈尔滨; 2|Jilin|吉林省|Changchun|长春
        2|Guangxi|广西壮族自治区|Nanning|南宁; 2|Hebei|河北省|Shijiazhuang|石家庄; 2|Jiangxi|江西省|Nanchang|南昌
        2|Guizhou|贵州省|Guiyang|贵阳; 2|Shanxi|山西省|Taiyuan|太原; 2|Zhejiang|浙江省|Wenzhou|温州
        3|Henan|河南省|Luoyang|洛阳; 3|Jiangsu|江苏省|Yangzhou|扬州; 3|Guangxi|广西壮族自治区|Guilin|桂林
        3|Gansu|甘肃省|Lanzhou|兰州; 3|Hainan|海南省|Haikou|海口; 3|Ningxia|宁夏回族自治区|Yinchuan|银川
        3|Qinghai|青海省|Xining|西宁; 3|Inner Mongolia|内蒙古自治区|Hohhot|呼和浩特
        3|Xinjiang|新疆维吾尔自治区|Urumqi|乌鲁木齐; 3|Guangdong|广东省|Zhuhai|珠海; 3|Shandong|山东省|Weifang|潍坊
        3|Hubei|湖北省|Yichang|宜昌; 3|Sichuan|四川省|Mianyang|绵阳; 3|Jiangxi|江西省|Ganzhou|赣州
        """
    )
)
_FOREIGN_CITIES = _table(
    """
    US|California|加利福尼亚州|San Francisco|旧金山; US|California|加利福尼亚州|Los Angeles|洛杉矶
    US|New York|纽约州|New York|纽约; US|Washington|华盛顿州|Seattle|西雅图; US|Illinois|伊利诺伊州|Chicago|芝加哥
    DE|Bavaria|巴伐利亚州|Munich|慕尼黑; DE|Berlin|柏林州|Berlin|柏林; DE|Hesse|黑森州|Frankfurt|法兰克福
    DE|Hamburg|汉堡州|Hamburg|汉堡
    GB|England|英格兰|London|伦敦; GB|England|英格兰|Manchester|曼彻斯特; GB|Scotland|苏格兰|Edinburgh|爱丁堡
    JP|Tokyo|东京都|Tokyo|东京; JP|Osaka|大阪府|Osaka|大阪; JP|Aichi|爱知县|Nagoya|名古屋
    SG|Singapore|新加坡|Singapore|新加坡
    FR|Île-de-France|法兰西岛大区|Paris|巴黎; FR|Auvergne-Rhône-Alpes|奥弗涅-罗讷-阿尔卑斯大区|Lyon|里昂
    AU|New South Wales|新南威尔士州|Sydney|悉尼; AU|Victoria|维多利亚州|Melbourne|墨尔本
    KR|Seoul|首尔|Seoul|首尔
    """
)


@dataclass(frozen=True)
class Country:
    iso: str
    name_en: str
    name_zh: str
    calling_code: str
    currency: str
    weight: float
    company_suffix: str
    tld: str
    cities: tuple[City, ...]


COUNTRIES: tuple[Country, ...] = tuple(
    Country(
        iso,
        name_en,
        name_zh,
        calling_code,
        currency,
        float(weight),
        suffix,
        tld,
        CHINA_CITIES if iso == "CN" else tuple(City(*row, "", 1.0) for row in _FOREIGN_CITIES if row[0] == iso),
    )
    for iso, name_en, name_zh, calling_code, currency, weight, suffix, tld in _table(
        """
        CN|China|中国|86|CNY|85|Co., Ltd.|cn
        US|United States|美国|1|USD|4|Inc.|com
        DE|Germany|德国|49|EUR|2|GmbH|de
        GB|United Kingdom|英国|44|GBP|2|Ltd|co.uk
        JP|Japan|日本|81|JPY|2.5|K.K.|co.jp
        SG|Singapore|新加坡|65|SGD|1.5|Pte. Ltd.|sg
        FR|France|法国|33|EUR|1|SAS|fr
        AU|Australia|澳大利亚|61|USD|1|Pty Ltd|com.au
        KR|South Korea|韩国|82|USD|1|Co., Ltd.|co.kr
        """
    )
)
CURRENCIES = ("CNY", "USD", "EUR", "GBP", "JPY", "SGD")
CNY_PER_UNIT = np.array([1.0, 7.2, 7.8, 9.1, 0.048, 5.35])
_JPY = CURRENCIES.index("JPY")
_USD = CURRENCIES.index("USD")
_CHINA = next(i for i, c in enumerate(COUNTRIES) if c.iso == "CN")

SURNAMES = _table(  # (汉字, pinyin)
    """
    王|Wang; 李|Li; 张|Zhang; 刘|Liu; 陈|Chen; 杨|Yang; 黄|Huang; 赵|Zhao; 吴|Wu; 周|Zhou; 徐|Xu; 孙|Sun
    马|Ma; 朱|Zhu; 胡|Hu; 郭|Guo; 何|He; 高|Gao; 林|Lin; 罗|Luo; 郑|Zheng; 梁|Liang; 谢|Xie; 宋|Song
    唐|Tang; 韩|Han; 冯|Feng; 邓|Deng; 曹|Cao; 彭|Peng
    """
)
GIVEN_NAMES = _table(
    """
    伟|Wei; 芳|Fang; 娜|Na; 秀英|Xiuying; 敏|Min; 静|Jing; 丽|Li; 强|Qiang; 磊|Lei; 军|Jun; 洋|Yang
    勇|Yong; 艳|Yan; 杰|Jie; 娟|Juan; 涛|Tao; 明|Ming; 超|Chao; 秀兰|Xiulan; 霞|Xia; 平|Ping; 刚|Gang
    建华|Jianhua; 志强|Zhiqiang; 晓明|Xiaoming; 丹|Dan; 浩然|Haoran; 子涵|Zihan; 欣怡|Xinyi; 宇轩|Yuxuan
    雨桐|Yutong; 思远|Siyuan
    """
)
FIRST_NAMES = _words(
    """James, Mary, John, Patricia, Robert, Jennifer, Michael, Linda, David, Sarah, Thomas, Emma, Daniel,
    Olivia, Lukas, Anna, Felix, Sophie, Oliver, Charlotte, Hiroshi, Yuki, Kenji, Sakura, Minjun, Seoyeon,
    Pierre, Camille, Liam, Chloe"""
)
LAST_NAMES = _table(  # (display, ASCII for e-mail addresses)
    """
    Smith|smith; Johnson|johnson; Williams|williams; Brown|brown; Miller|miller; Davis|davis
    Wilson|wilson; Taylor|taylor; Müller|mueller; Schmidt|schmidt; Schneider|schneider; Fischer|fischer
    Weber|weber; Martin|martin; Dubois|dubois; Lefèvre|lefevre; Tanaka|tanaka; Suzuki|suzuki; Sato|sato
    Takahashi|takahashi; Tan|tan; Lim|lim; Kim|kim; Park|park; Evans|evans; Walker|walker; Clarke|clarke
    O'Brien|obrien; Nguyen|nguyen; Lee|lee
    """
)
CHINESE_BRANDS = _table(
    """
    恒达|Hengda; 华信|Huaxin; 金桥|Jinqiao; 东方|Dongfang; 天宇|Tianyu; 新锐|Xinrui; 博远|Boyuan
    宏图|Hongtu; 中科|Zhongke; 瑞丰|Ruifeng; 鼎盛|Dingsheng; 卓越|Zhuoyue; 汇通|Huitong; 嘉禾|Jiahe
    长城|Changcheng; 蓝海|Lanhai; 海纳|Haina; 盛世|Shengshi; 智联|Zhilian; 云帆|Yunfan
    """
)
CHINESE_COMPANY_SUFFIXES = _table("有限公司|Co., Ltd.; 股份有限公司|Holdings Co., Ltd.; 集团|Group")
FOREIGN_BRANDS = _words(
    """Northwind, Contoso, Globex, Initech, Blue Harbor, Silverline, Nordwerk, Redwood, Sakura, Lionsgate,
    Brightwater, Keystone, Meridian, Summit, Atlas, Evergreen"""
)
INDUSTRIES = _table(  # (industry en, industry zh, company-name word en, zh, e-mail domain word)
    """
    Manufacturing|制造业|Manufacturing|制造|mfg
    Retail|零售|Trading|商贸|trading
    Information Technology|信息技术|Technology|科技|tech
    Healthcare|医疗健康|Medical|医疗器械|med
    Education|教育培训|Education|教育|edu
    Financial Services|金融服务|Capital|投资|capital
    Logistics|物流运输|Logistics|物流|logistics
    Construction|建筑工程|Construction|建设|build
    Food & Beverage|餐饮食品|Foods|食品|foods
    Energy|能源|Energy|新能源|energy
    Media|文化传媒|Media|文化传媒|media
    Professional Services|专业服务|Consulting|咨询|consulting
    """
)
OWNERS = _table(  # (zh, en)
    """
    张伟|Zhang Wei; 王芳|Wang Fang; 李娜|Li Na; 刘洋|Liu Yang; 陈静|Chen Jing; 杨磊|Yang Lei
    赵敏|Zhao Min; 黄涛|Huang Tao; 周杰|Zhou Jie; 吴霞|Wu Xia; 徐明|Xu Ming; 孙丽|Sun Li; 马超|Ma Chao
    朱丹|Zhu Dan; 胡军|Hu Jun; 郭平|Guo Ping; 何勇|He Yong; 高艳|Gao Yan; 林浩然|Lin Haoran
    罗欣怡|Luo Xinyi; 郑强|Zheng Qiang; 梁娟|Liang Juan; Emily Carter|Emily Carter; Jonas Becker|Jonas Becker
    """
)
LEAD_SOURCES = _table(  # (en, zh, weight for accounts, weight for persons)
    """
    Website|官网|0.20|0.30; Referral|客户转介绍|0.18|0.12; Trade Show|展会|0.15|0.02
    Advertisement|广告投放|0.07|0.16; Cold Call|电话营销|0.12|0.04; Partner|合作伙伴|0.14|0.04
    Social Media|社交媒体|0.06|0.16; E-commerce|电商平台|0.08|0.16
    """
)
WEBSHOP_SOURCE = ("Webshop", "网上商城")
CHANNELS = _table(  # (en, zh, weight for accounts, weight for persons)
    """
    Direct Sales|直销|0.40|0.05; Distributor|经销商|0.30|0.05; Online Store|官方商城|0.10|0.35
    Marketplace|电商平台|0.05|0.35; Retail Store|门店|0.05|0.15; Phone Order|电话订购|0.10|0.05
    """
)
ORDER_STATUSES = ("completed", "cancelled", "refunded")
ORDER_STATUS_WEIGHTS = (0.92, 0.05, 0.03)
INTERACTION_TYPES = ("call", "email", "visit", "meeting", "wechat")
INTERACTION_TYPE_WEIGHTS = (0.32, 0.30, 0.10, 0.16, 0.12)
INTERACTION_CHANNELS = _table("Phone|电话; Email|邮件; On-site|现场; Video Call|视频会议; WeChat|微信")
TICKET_STATUSES = ("open", "pending", "resolved", "closed")
TICKET_PRIORITIES = ("low", "medium", "high", "urgent")
TICKET_PRIORITY_WEIGHTS = (0.30, 0.45, 0.20, 0.05)
TICKET_CATEGORIES = _table(  # (en, zh, weight)
    """
    Billing|账单问题|0.15; Delivery|物流配送|0.22; Product Defect|产品质量|0.18; Installation|安装调试|0.12
    Account|账户问题|0.08; Returns|退换货|0.13; How-to|使用咨询|0.12
    """
)
SURVEY_COMMENTS = _table(  # (en, zh, band: 0 negative, 1 neutral, 2 positive)
    """
    Great service, will buy again|服务很好，会再次购买|2; Fast delivery|发货很快|2
    Very satisfied with the product quality|对产品质量非常满意|2; Helpful sales rep|销售顾问很专业|2
    Okay overall|整体还可以|1; Price is a bit high|价格偏高|1; Delivery could be faster|物流可以更快一些|1
    Product arrived damaged|收到的产品有损坏|0; Support was slow to respond|客服响应太慢|0
    Not worth the price|性价比不高|0; Would not recommend|不会推荐给朋友|0
    """
)
PERSON_EMAIL_DOMAINS_CN = _words("qq.com, 163.com, 126.com, sina.com, outlook.com")
PERSON_EMAIL_DOMAINS_INT = _words("gmail.com, outlook.com, yahoo.com, icloud.com")
COMPANY_EMAIL_ROLES = _words("info, sales, purchasing, contact, admin")

# Product catalogue: 10 categories x 4 items x 5 models x 2 generations = 400 products.
PRODUCT_CATEGORIES = _table(  # (en, zh, min CNY, max CNY, weight accounts, weight persons, items en/zh)
    """
    Office Furniture|办公家具|300|6000|0.12|0.06|Ergonomic Chair/人体工学椅, Standing Desk/升降办公桌, Filing Cabinet/文件柜, Meeting Table/会议桌
    Computers|电脑整机|2500|22000|0.14|0.10|Laptop/笔记本电脑, Desktop PC/台式电脑, Workstation/工作站, Tablet/平板电脑
    Accessories|电脑配件|40|600|0.08|0.20|Wireless Mouse/无线鼠标, Mechanical Keyboard/机械键盘, USB-C Hub/扩展坞, Monitor Arm/显示器支架
    Displays|显示设备|700|8000|0.10|0.09|27-inch Monitor/27英寸显示器, 4K Monitor/4K显示器, Projector/投影仪, Interactive Panel/会议平板
    Networking|网络设备|150|15000|0.10|0.05|Wi-Fi Router/无线路由器, Network Switch/交换机, Firewall/防火墙, Access Point/无线接入点
    Printing|打印耗材|30|5000|0.09|0.08|Laser Printer/激光打印机, Toner Cartridge/硒鼓, A4 Paper Box/A4打印纸(箱), Label Printer/标签打印机
    Software|软件服务|200|20000|0.13|0.06|CRM License/CRM年度许可, Antivirus Suite/杀毒软件, Office Suite/办公套件, Cloud Storage Plan/云存储套餐
    Audio & Video|音视频设备|100|3000|0.08|0.14|Headset/耳机, Speakerphone/会议全向麦, Webcam/摄像头, Soundbar/回音壁音箱
    Smart Home|智能家居|150|4000|0.03|0.18|Smart Speaker/智能音箱, Smart Lock/智能门锁, Robot Vacuum/扫地机器人, Air Purifier/空气净化器
    Services|技术服务|200|10000|0.13|0.04|Installation Service/上门安装服务, Extended Warranty/延保服务, Training Session/培训服务, Support Plan/技术支持套餐
    """  # noqa: E501
)
PRODUCT_ITEMS = tuple(tuple(item.split("/")) for row in PRODUCT_CATEGORIES for item in _words(row[6]))
PRODUCT_MODELS = (("Lite", 0.7), ("Standard", 1.0), ("Plus", 1.2), ("Pro", 1.45), ("Max", 1.9))
PRODUCT_GENERATIONS = (("100", 1.0), ("200", 1.15))


def _column(rows: Sequence[Sequence[str]], index: int) -> np.ndarray:
    """One numeric column of a vocabulary table (weights, bounds)."""
    return np.array([float(row[index]) for row in rows])


# ---------------------------------------------------------------------------------------------
# Layouts: how each profile formats its exports (headers and vocabularies come from the YAML).


@dataclass(frozen=True)
class _Layout:
    language: str  # en | zh: free-text vocabularies (industry, channel, cities, ...)
    country_style: str  # iso | en | zh
    default_encoding: str
    encodings: dict[str, str]  # entity -> encoding when not the default
    formats: dict[str, str]  # entity -> csv | jsonl | xlsx (default csv)
    date_style: str  # iso (2026-03-04) | slash (2026/3/4)
    timestamp_style: str  # seconds (2026-03-04 10:15:00) | offset (2026-03-04T10:15:00+08:00) | minutes
    shift_seconds: int  # the demo timeline is China Standard Time; generic exports are UTC
    thousands: str | None  # taken from the profile YAML
    line_end: bytes
    phone_style: int  # index into _PHONE_STYLES
    ids: dict[str, tuple[str, int]]  # record kind -> (prefix, zero-padded digits)


def _ids(text: str) -> dict[str, tuple[str, int]]:
    return {kind: (prefix, int(width)) for kind, prefix, width in _table(text)}


_LAYOUTS = {
    "generic": _Layout(
        language="en",
        country_style="iso",
        default_encoding="utf-8",
        encodings={},
        formats={"products": "xlsx", "interactions": "jsonl"},
        date_style="iso",
        timestamp_style="seconds",
        shift_seconds=-8 * 3600,
        thousands=None,
        line_end=b"\n",
        phone_style=0,
        ids=_ids(
            "customers|CUS-|8; webshop|WEB-|8; orders|SO-|10; interactions|INT-|10; tickets|TKT-|9; "
            "surveys|SRV-|9; products|PRD-|5"
        ),
    ),
    "zoho": _Layout(
        language="en",
        country_style="en",
        default_encoding="utf-8",
        encodings={},
        formats={},
        date_style="iso",
        timestamp_style="offset",
        shift_seconds=0,
        thousands=None,
        line_end=b"\n",
        phone_style=1,
        ids=_ids(
            "customers|415086800|10; webshop|WS|8; orders|415086801|10; interactions|415086802|10; "
            "tickets|415086803|10; surveys|415086804|10; products|415086805|10"
        ),
    ),
    "fxiaoke": _Layout(
        language="zh",
        country_style="zh",
        default_encoding="gb18030",
        encodings={"surveys": "utf-8-sig"},
        formats={"products": "xlsx"},
        date_style="slash",
        timestamp_style="minutes",
        shift_seconds=0,
        thousands=",",
        line_end=b"\r\n",
        phone_style=2,
        ids=_ids(
            "customers|KH|8; webshop|WX|8; orders|DD|10; interactions|GJ|10; tickets|GD|9; surveys|WJ|9; products|CP|5"
        ),
    ),
}
_FILE_SUFFIX = {"csv": "csv", "jsonl": "jsonl", "xlsx": "xlsx"}

# ---------------------------------------------------------------------------------------------
# Manifest


@dataclass
class DemoFile:
    """One written export file."""

    name: str  # relative to out_dir
    entity: str
    file_format: str  # csv | jsonl | xlsx
    encoding: str  # utf-8 | utf-8-sig | gb18030 | xlsx
    purpose: str  # main | identity_duplicates | changed_records
    rows: int = 0  # data rows (records) in the file, defective ones included
    defects: dict[str, int] = field(default_factory=dict)

    @property
    def unloadable_rows(self) -> int:
        return sum(self.defects.get(kind, 0) for kind in UNLOADABLE_DEFECTS)

    @property
    def loadable_rows(self) -> int:
        return self.rows - self.unloadable_rows

    def to_dict(self) -> dict:
        return {**asdict(self), "unloadable_rows": self.unloadable_rows, "loadable_rows": self.loadable_rows}


@dataclass
class DemoManifest:
    """What `generate_demo_exports` wrote: every file with its row and defect counts, plus the scenarios."""

    profile: str
    seed: int
    customers: int
    end_date: str
    with_defects: bool
    files: list[DemoFile] = field(default_factory=list)
    # entity -> records generated before defects (what a clean load of the main file must contain)
    records: dict[str, int] = field(default_factory=dict)
    leads_without_orders: int = 0
    identity_duplicates: dict[str, int] = field(default_factory=dict)
    changed_records: dict[str, int] = field(default_factory=dict)

    def file(self, name: str) -> DemoFile:
        return next(f for f in self.files if f.name == name)

    def files_for(self, entity: str) -> list[DemoFile]:
        return [f for f in self.files if f.entity == entity]

    def to_json(self) -> str:
        doc = {
            "profile": self.profile,
            "seed": self.seed,
            "customers": self.customers,
            "end_date": self.end_date,
            "with_defects": self.with_defects,
            "defect_kinds": {"unloadable": list(UNLOADABLE_DEFECTS), "loads_dirty": list(LOADABLE_DEFECTS)},
            "files": [f.to_dict() for f in self.files],
            "records": self.records,
            "leads_without_orders": self.leads_without_orders,
            "identity_duplicates": self.identity_duplicates,
            "changed_records": self.changed_records,
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# Byte-block rendering


def _const(n: int, text: bytes) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text, np.uint8), (n, len(text)))


def _where(mask: np.ndarray, text: bytes) -> np.ndarray:
    block = np.zeros((mask.size, len(text)), np.uint8)
    block[mask] = np.frombuffer(text, np.uint8)
    return block


def _blank_rows(block: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    if rows is None or not rows.any():
        return block
    return np.where(rows[:, None], np.uint8(0), block)


_DIGIT_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], np.uint8).view(np.uint16).ravel()


def _digits(values: np.ndarray, width: int | None = None, pad: bool = False) -> np.ndarray:
    """Non-negative integers as right-aligned ASCII digits (two per division); leading zeros blank unless `pad`."""
    values = np.asarray(values)
    top = int(values.max()) if values.size else 0
    if width is None:
        width = len(str(top))
    even = width + width % 2
    out = np.empty((values.size, even), np.uint8)
    pairs = out.view(np.uint16)
    rest = values.astype(np.uint32 if top < 2**32 else np.int64)
    for column in range(even // 2 - 1, -1, -1):
        quotient = rest // 100
        pairs[:, column] = _DIGIT_PAIRS[rest - quotient * 100]
        rest = quotient
    out = out[:, even - width :]
    if not pad and width > 1:
        leading = ~np.logical_or.accumulate(out != ord("0"), axis=1)
        leading[:, -1] = False
        out[leading] = 0
    return out


def _grouped_digits(values: np.ndarray, separator: bytes) -> list[np.ndarray]:
    digits = _digits(values)
    width = digits.shape[1]
    blocks = []
    for column in range(width):
        blocks.append(digits[:, column : column + 1])
        place = width - 1 - column
        if place and place % 3 == 0:
            blocks.append(_where(values >= 10**place, separator))
    return blocks


class _Words:
    """A small vocabulary, encoded once per text encoding into a NUL-padded byte matrix."""

    def __init__(self, values: Sequence[str]):
        self.values = tuple(values)
        self._encoded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for value in self.values:
            if any(ch in value for ch in '"\\\r\n\x00'):
                raise ValueError(f"vocabulary value {value!r} needs escaping; keep demo vocabularies plain")

    def encoded(self, encoding: str) -> tuple[np.ndarray, np.ndarray]:
        if encoding not in self._encoded:
            raw = [value.encode(encoding) for value in self.values]
            matrix = np.zeros((len(raw), max([1, *map(len, raw)])), np.uint8)
            for i, item in enumerate(raw):
                matrix[i, : len(item)] = np.frombuffer(item, np.uint8)
            self._encoded[encoding] = (matrix, np.array([b"," in item for item in raw]))
        return self._encoded[encoding]

    def block(self, idx: np.ndarray, encoding: str, rows: np.ndarray | None = None) -> np.ndarray:
        matrix, _ = self.encoded(encoding)
        block = matrix[np.clip(idx, 0, len(self.values) - 1)]
        return block if rows is None else _blank_rows(block, ~rows)

    def needs_quote(self, idx: np.ndarray, encoding: str) -> np.ndarray:
        return self.encoded(encoding)[1][np.clip(idx, 0, len(self.values) - 1)]


@dataclass
class _Field:
    """One column of a chunk as byte blocks (n rows each); blanking is applied after assembly."""

    blocks: list[np.ndarray]
    null: np.ndarray | None = None
    quote: np.ndarray | None = None  # CSV: rows whose value contains the delimiter
    is_text: bool = True  # JSON: string (quoted) or number
    replaced: tuple[int, np.ndarray] | None = None  # (original block count, rows showing the replacement)

    def override(self, rows: np.ndarray, replacement: np.ndarray) -> None:
        """Show `replacement` (a block, zero outside `rows`) instead of the value on `rows`."""
        if rows.any():
            self.replaced = (len(self.blocks), rows)
            self.blocks = [*self.blocks, replacement]
            self.null = None if self.null is None else self.null & ~rows
            self.is_text = True

    def pad_with_spaces(self, rows: np.ndarray) -> None:
        if rows.any():
            replaced = None if self.replaced is None else (self.replaced[0] + 1, self.replaced[1])
            self.blocks = [_where(rows, b"  "), *self.blocks, _where(rows, b" ")]
            self.replaced = replaced


def _assemble(pieces: list[np.ndarray | tuple[_Field, np.ndarray | None]]) -> np.ndarray:
    """Concatenate byte blocks and fields (with rows to hide) into one NUL-padded row matrix."""
    blocks, blanks, offset = [], [], 0
    for piece in pieces:
        if isinstance(piece, np.ndarray):
            blocks.append(piece)
            offset += piece.shape[1]
            continue
        column, hidden = piece
        start = replaced_end = offset
        for position, block in enumerate(column.blocks):
            if column.replaced is not None and position == column.replaced[0]:
                replaced_end = offset
            blocks.append(block)
            offset += block.shape[1]
        if hidden is not None and hidden.any():
            blanks.append((start, offset, hidden))
        if column.replaced is not None:
            blanks.append((start, replaced_end, column.replaced[1]))
    matrix = np.hstack(blocks)
    for start, end, rows in blanks:
        matrix[np.flatnonzero(rows), start:end] = 0
    return matrix


def _compact(matrix: np.ndarray) -> bytes:
    return matrix[matrix != 0].tobytes()


def _text_field(words: _Words, idx: np.ndarray, encoding: str, null: np.ndarray | None = None) -> _Field:
    return _Field([words.block(idx, encoding)], null=null, quote=words.needs_quote(idx, encoding))


def _int_field(values: np.ndarray, null: np.ndarray | None = None) -> _Field:
    return _Field([_digits(np.where(values < 0, 0, values))], null=null, is_text=False)


def _render_csv(fields: list[_Field], width_defect: np.ndarray, line_end: bytes) -> bytes:
    n = width_defect.size
    drop_last = width_defect == 1
    pieces: list = []
    for position, column in enumerate(fields):
        last = position == len(fields) - 1
        hidden = column.null if column.null is not None else np.zeros(n, bool)
        if last:
            hidden = hidden | drop_last
        if position:
            pieces.append(_where(~drop_last, b",") if last else _const(n, b","))
        quote = None if column.quote is None else column.quote & ~hidden
        quoted = quote is not None and quote.any()
        pieces += [_where(quote, b'"'), (column, hidden), _where(quote, b'"')] if quoted else [(column, hidden)]
    pieces += [_where(width_defect == 2, b",n/a"), _const(n, line_end)]
    return _compact(_assemble(pieces))


def _render_jsonl(headers: list[str], fields: list[_Field]) -> bytes:
    n = fields[0].blocks[0].shape[0]
    pieces: list = []
    for position, (header, column) in enumerate(zip(headers, fields, strict=True)):
        key = ("{" if position == 0 else ",") + json.dumps(header, ensure_ascii=False) + ":"
        null = column.null if column.null is not None else np.zeros(n, bool)
        quote = _where(~null, b'"') if column.is_text else np.zeros((n, 0), np.uint8)
        pieces += [_const(n, key.encode("utf-8")), quote, (column, null), quote, _where(null, b"null")]
    pieces.append(_const(n, b"}\n"))
    return _compact(_assemble(pieces))


def _field_strings(column: _Field, encoding: str) -> list[str | None]:
    """Per-row Python strings of a field (used for the small XLSX catalogue only)."""
    matrix = _assemble([(column, column.null)])
    null = column.null if column.null is not None else np.zeros(matrix.shape[0], bool)
    return [None if gone else bytes(row[row != 0]).decode(encoding) for row, gone in zip(matrix, null, strict=True)]


# ---------------------------------------------------------------------------------------------
# Formatting of ids, dates, money and phone numbers


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    stamp = days.astype("datetime64[D]")
    months = stamp.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (stamp - months).astype(np.int64) + 1
    return year, month, day


def _date_matrix(days: np.ndarray, style: str) -> np.ndarray:
    """Dates as a byte matrix, formatted once per distinct day in range and looked up."""
    if days.size == 0:
        return np.zeros((0, 10), np.uint8)
    first = int(days.min())
    calendar = np.arange(first, int(days.max()) + 1)
    year, month, day = _ymd(calendar)
    n = calendar.size
    if style == "slash":
        parts = [_digits(year, 4, pad=True), _const(n, b"/"), _digits(month), _const(n, b"/"), _digits(day)]
    else:
        parts = [
            _digits(year, 4, True),
            _const(n, b"-"),
            _digits(month, 2, True),
            _const(n, b"-"),
            _digits(day, 2, True),
        ]
    return np.hstack(parts)[days - first]


@cache
def _clock_table(style: str) -> np.ndarray:
    """Every second of a day as 'HH:MM:SS' (or 'HH:MM' for the minutes style)."""
    second = np.arange(DAY_SECONDS)
    n = second.size
    parts = [_digits(second // 3600, 2, True), _const(n, b":"), _digits(second // 60 % 60, 2, True)]
    if style != "minutes":
        parts += [_const(n, b":"), _digits(second % 60, 2, True)]
    return np.hstack(parts)


def _timestamp_blocks(seconds: np.ndarray, layout: _Layout) -> list[np.ndarray]:
    days, time_of_day = np.divmod(seconds + layout.shift_seconds, DAY_SECONDS)
    n = seconds.size
    blocks = [
        _date_matrix(days, "iso"),
        _const(n, b"T" if layout.timestamp_style == "offset" else b" "),
        _clock_table(layout.timestamp_style)[time_of_day],
    ]
    if layout.timestamp_style == "offset":
        blocks.append(_const(n, b"+08:00"))
    return blocks


def _money_field(cents: np.ndarray, layout: _Layout) -> _Field:
    units, fraction = np.divmod(np.abs(cents), 100)
    n = cents.size
    if layout.thousands:
        integer = _grouped_digits(units, layout.thousands.encode("ascii"))
        quote = units >= 1000 if layout.thousands == "," else None
    else:
        integer, quote = [_digits(units)], None
    blocks = [_where(cents < 0, b"-"), *integer, _const(n, b"."), _digits(fraction, 2, pad=True)]
    return _Field(blocks, quote=quote, is_text=quote is not None)


def _id_field(layout: _Layout, kind: str, numbers: np.ndarray, webshop: np.ndarray | None = None) -> _Field:
    """Prefix + zero-padded number; customer references may point at webshop records instead."""
    prefix, width = layout.ids[kind]
    if webshop is None or not webshop.any():
        return _Field([_const(numbers.size, prefix.encode("ascii")), _digits(numbers, width, pad=True)])
    web_prefix, web_width = layout.ids["webshop"]
    return _Field(
        [
            _Words([prefix, web_prefix]).block(webshop.astype(np.int64), "ascii"),
            _blank_rows(_digits(numbers, width, pad=True), webshop),
            _blank_rows(_digits(numbers, web_width, pad=True), ~webshop),
        ]
    )


# Phone styles: prefix template, group separator. Chinese numbers in the compact style carry no prefix.
_PHONE_STYLES = (("+{cc} ", b" "), ("+{cc}-", b"-"), ("+{cc}", b""), ("(+{cc}) ", b"-"))


def _phone_blocks(national: np.ndarray, country: np.ndarray, style: np.ndarray) -> list[np.ndarray]:
    """CN numbers: 138 1234 5678 (11 digits); elsewhere 415 555 0134 (10 digits)."""
    digits = _digits(national, 11)
    china = country == _CHINA
    prefix_blocks = []
    for index, (template, _) in enumerate(_PHONE_STYLES):
        rows = style == index
        if not rows.any():
            continue
        words = _Words([template.format(cc=c.calling_code) for c in COUNTRIES])
        block = words.block(country, "ascii", rows)
        if index == 2:
            block = _blank_rows(block, china)
        prefix_blocks.append(block)
    separators = _Words([sep.decode("ascii") for _, sep in _PHONE_STYLES]).block(style, "ascii")
    return [
        *prefix_blocks,
        digits[:, 0:3],
        _blank_rows(separators, ~china),
        digits[:, 3:4],
        _blank_rows(separators, china),
        digits[:, 4:7],
        separators,
        digits[:, 7:11],
    ]


# ---------------------------------------------------------------------------------------------
# Simulation


@dataclass
class _Context:
    profile: VendorProfile
    layout: _Layout
    end_day: int
    end_seconds: int
    catalogue: dict[str, np.ndarray]
    interaction_types: np.ndarray  # canonical indices this profile can express
    counters: dict[str, int]


def _weighted(rng: np.random.Generator, weights: Sequence[float], n: int) -> np.ndarray:
    cumulative = np.cumsum(np.asarray(weights, dtype=float))
    return np.searchsorted(cumulative / cumulative[-1], rng.random(n), side="right").clip(0, len(weights) - 1)


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    office = np.clip(rng.normal(14 * 3600, 2.4 * 3600, n), 8 * 3600, 21 * 3600)
    anytime = rng.uniform(0, DAY_SECONDS, n)
    return np.where(rng.random(n) < 0.88, office, anytime).astype(np.int64)


def _uniform_between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return low + (rng.random(low.size) * (high - low + 1)).astype(np.int64)


def _segment_starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def _build_catalogue(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 1])
    category, item, model, generation, price = [], [], [], [], []
    items_per_category = len(PRODUCT_ITEMS) // len(PRODUCT_CATEGORIES)
    for c, (low, high) in enumerate(zip(_column(PRODUCT_CATEGORIES, 2), _column(PRODUCT_CATEGORIES, 3), strict=True)):
        for i in range(items_per_category):
            base = np.exp(rng.uniform(np.log(low), np.log(high / 2)))
            for m, (_, model_factor) in enumerate(PRODUCT_MODELS):
                for g, (_, generation_factor) in enumerate(PRODUCT_GENERATIONS):
                    category.append(c)
                    item.append(i)
                    model.append(m)
                    generation.append(g)
                    price.append(base * model_factor * generation_factor)
    prices = np.asarray(price)
    # Shop prices: ...9 for the cheap, ...99 above a thousand.
    list_cents = np.where(prices < 1000, np.round(prices / 10) * 10 - 1, np.round(prices / 100) * 100 - 1)
    category_array = np.asarray(category)
    popularity = np.zeros(prices.size)
    for c in range(len(PRODUCT_CATEGORIES)):
        members = np.flatnonzero(category_array == c)
        popularity[members] = 1.0 / (1 + rng.permutation(members.size)) ** 1.1
    cumulative = np.zeros(prices.size)
    for c in range(len(PRODUCT_CATEGORIES)):
        members = np.flatnonzero(category_array == c)
        cumulative[members] = np.cumsum(popularity[members]) / popularity[members].sum()
    return {
        "category": category_array,
        "item": np.asarray(item),
        "model": np.asarray(model),
        "generation": np.asarray(generation),
        "list_cents": (np.maximum(list_cents, 9) * 100).astype(np.int64),
        "within_category_cumulative": cumulative,
        "category_start": np.searchsorted(category_array, np.arange(len(PRODUCT_CATEGORIES))),
        "category_size": np.bincount(category_array, minlength=len(PRODUCT_CATEGORIES)),
    }


def _pick_products(rng: np.random.Generator, catalogue: dict[str, np.ndarray], category: np.ndarray) -> np.ndarray:
    """A product of each row's category, by popularity (categories are contiguous in the catalogue)."""
    keys = catalogue["category"] + catalogue["within_category_cumulative"]  # increasing across categories
    picked = np.searchsorted(keys, category + rng.random(category.size))
    return np.minimum(picked, catalogue["category_start"][category] + catalogue["category_size"][category] - 1)


def _simulate_chunk(rng: np.random.Generator, first_number: int, count: int, ctx: _Context) -> dict[str, dict]:
    """Customers, their orders, lines, interactions, tickets and surveys for one chunk."""
    end_seconds, end_day = ctx.end_seconds, ctx.end_day
    number = np.arange(first_number, first_number + count, dtype=np.int64)
    company = rng.random(count) < 0.35
    country = _weighted(rng, [c.weight for c in COUNTRIES], count)
    city = np.zeros(count, np.int64)
    city_offsets = np.cumsum([0] + [len(c.cities) for c in COUNTRIES])
    for c, spec in enumerate(COUNTRIES):
        rows = country == c
        city[rows] = city_offsets[c] + _weighted(rng, [x.weight for x in spec.cities], int(rows.sum()))
    china = country == _CHINA
    name_a = np.where(
        company,
        np.where(china, rng.integers(0, len(CHINESE_BRANDS), count), rng.integers(0, len(FOREIGN_BRANDS), count)),
        np.where(china, rng.integers(0, len(SURNAMES), count), rng.integers(0, len(FIRST_NAMES), count)),
    )
    name_b = np.where(
        company,
        rng.integers(0, len(INDUSTRIES), count),
        np.where(china, rng.integers(0, len(GIVEN_NAMES), count), rng.integers(0, len(LAST_NAMES), count)),
    )
    name_c = _weighted(rng, (0.7, 0.2, 0.1), count)  # Chinese company suffix
    has_email = rng.random(count) < np.where(company, 0.95, 0.88)
    has_phone = rng.random(count) < np.where(company, 0.92, 0.85)
    email_domain = np.where(
        company,
        rng.integers(0, len(COMPANY_EMAIL_ROLES), count),
        np.where(china, rng.integers(0, len(PERSON_EMAIL_DOMAINS_CN), count), rng.integers(0, 4, count)),
    )
    # Unique national numbers from a bijection of the customer number.
    scrambled = (number * 387_420_489 + 123_456_789) % 1_000_000_000
    national = np.where(china, (13 + number % 7) * 1_000_000_000, (2 + number % 8) * 1_000_000_000) + scrambled
    owner = rng.integers(0, len(OWNERS), count)
    lead_source = np.where(
        company,
        _weighted(rng, _column(LEAD_SOURCES, 2), count),
        _weighted(rng, _column(LEAD_SOURCES, 3), count),
    )
    age_days = np.floor(HISTORY_DAYS * rng.random(count) ** 1.35).astype(np.int64)
    created = (end_day - age_days) * DAY_SECONDS + _time_of_day(rng, count)
    created = np.minimum(created, end_seconds - 3600)

    # Purchasing: BG/NBD (rate ~ Gamma, dropout after each repeat purchase ~ Beta).
    lag = np.where(rng.random(count) < 0.4, 0, rng.exponential(12 * DAY_SECONDS, count)).astype(np.int64)
    first_order = created + lag + rng.integers(60, 3 * 3600, count)
    purchaser = (rng.random(count) < 0.80) & (first_order <= end_seconds)
    span_days = np.maximum(end_seconds - first_order, 0) / DAY_SECONDS
    rate = rng.gamma(0.9, np.where(company, 0.075, 0.045) / 0.9, count)
    dropout = rng.beta(1.3, 18.0, count)
    # Satisfaction (drives NPS/CSAT and tickets): happier customers drop out less.
    churn_propensity = np.log(dropout / (1 - dropout))
    churn_propensity = (churn_propensity - churn_propensity.mean()) / max(churn_propensity.std(), 1e-9)
    satisfaction = -0.75 * churn_propensity + rng.normal(0, 0.66, count)
    life = rng.geometric(dropout)
    in_window = rng.poisson(rate * span_days)
    repeats = np.where(purchaser, np.minimum(life, in_window), 0).astype(np.int64)
    # Repeat times: the first `repeats` of `in_window` uniform order statistics on the span.
    spacing = rng.exponential(1.0, int(repeats.sum()))
    owner_of_repeat = np.repeat(np.arange(count), repeats)
    running = np.cumsum(spacing)
    starts = _segment_starts(repeats)
    base = np.repeat(running[starts[repeats > 0]] - spacing[starts[repeats > 0]], repeats[repeats > 0])
    partial = running - base
    last_partial = np.zeros(count)
    last_partial[repeats > 0] = partial[starts[repeats > 0] + repeats[repeats > 0] - 1]
    total = last_partial + rng.gamma(np.maximum(in_window - repeats, 0) + 1.0)
    repeat_times = first_order[owner_of_repeat] + (
        span_days[owner_of_repeat] * DAY_SECONDS * partial / total[owner_of_repeat]
    ).astype(np.int64)
    buyers = np.flatnonzero(purchaser)
    order_customer = np.concatenate([buyers, owner_of_repeat])
    order_time = np.concatenate([first_order[buyers], repeat_times])
    ordering = np.lexsort((order_time, order_customer))
    order_customer, order_time = order_customer[ordering], order_time[ordering]
    n_orders = order_customer.size
    orders_per_customer = np.bincount(order_customer, minlength=count)

    # Spend: Gamma-Gamma (per-customer mean value ~ inverse Gamma, order value ~ Gamma around it).
    spend_level = np.where(company, 5200.0, 420.0) * 2.0 / rng.gamma(3.0, 1.0, count)
    order_value = spend_level[order_customer] * rng.gamma(4.0, 0.25, n_orders)
    home_currency = np.array([CURRENCIES.index(c.currency) for c in COUNTRIES])[country]
    currency = np.where(rng.random(n_orders) < 0.03, _USD, home_currency[order_customer])
    status = _weighted(rng, ORDER_STATUS_WEIGHTS, n_orders)
    favourite_channel = np.where(
        company,
        _weighted(rng, _column(CHANNELS, 2), count),
        _weighted(rng, _column(CHANNELS, 3), count),
    )
    channel = np.where(
        rng.random(n_orders) < 0.75, favourite_channel[order_customer], rng.integers(0, len(CHANNELS), n_orders)
    )
    settle = np.choose(status, [2 * DAY_SECONDS, DAY_SECONDS // 2, 20 * DAY_SECONDS])
    order_updated = np.minimum(order_time + rng.exponential(1.0, n_orders) * settle + 600, end_seconds).astype(np.int64)

    # Lines: 1 + Poisson(1.5) per order, products from a favourite category or anywhere.
    lines_per_order = np.minimum(1 + rng.poisson(1.5, n_orders), 12)
    line_order = np.repeat(np.arange(n_orders), lines_per_order)
    n_lines = line_order.size
    line_starts = _segment_starts(lines_per_order)
    line_number = np.arange(n_lines) - line_starts[line_order] + 1
    favourite_category = np.where(
        company,
        _weighted(rng, _column(PRODUCT_CATEGORIES, 4), count),
        _weighted(rng, _column(PRODUCT_CATEGORIES, 5), count),
    )
    line_customer = order_customer[line_order]
    category = np.where(
        rng.random(n_lines) < 0.55,
        favourite_category[line_customer],
        _weighted(rng, _column(PRODUCT_CATEGORIES, 4) + _column(PRODUCT_CATEGORIES, 5), n_lines),
    )
    product = _pick_products(rng, ctx.catalogue, category)
    discount = np.where(company, rng.uniform(0.78, 1.0, count), rng.uniform(0.9, 1.0, count))
    line_currency = currency[line_order]
    unit_cny = ctx.catalogue["list_cents"][product] * discount[line_customer]
    unit_cents = np.round(unit_cny / CNY_PER_UNIT[line_currency]).astype(np.int64)
    unit_cents = np.where(line_currency == _JPY, np.round(unit_cents / 100) * 100, unit_cents)
    unit_cents = np.maximum(unit_cents, 1).astype(np.int64)
    share = rng.gamma(2.0, 1.0, n_lines)
    share = share / np.add.reduceat(share, line_starts)[line_order] if n_lines else share
    quantity = np.clip(np.round(order_value[line_order] * 100 * share / unit_cny), 1, 500).astype(np.int64)
    line_cents = quantity * unit_cents
    amount = np.add.reduceat(line_cents, line_starts) if n_lines else np.zeros(0, np.int64)

    # Interactions (leads too), tickets and surveys (buyers).
    interaction_rate = (1.3 + 0.16 * orders_per_customer) * np.where(company, 1.35, 0.85)
    interactions_per_customer = rng.poisson(interaction_rate)
    interaction_customer = np.repeat(np.arange(count), interactions_per_customer)
    interaction_time = _uniform_between(
        rng, created[interaction_customer], np.full(interaction_customer.size, end_seconds)
    )
    allowed = ctx.interaction_types
    weights = np.asarray(INTERACTION_TYPE_WEIGHTS)[allowed]
    interaction_type = allowed[_weighted(rng, weights, interaction_customer.size)]
    # Channel follows the type (call -> phone, ...); 40% of meetings are on-site rather than video.
    on_site_meeting = (interaction_type == 3) & (rng.random(interaction_customer.size) < 0.4)
    interaction_channel = np.where(on_site_meeting, 2, interaction_type)

    ticket_rate = np.where(purchaser, 0.06 * orders_per_customer * np.exp(-0.35 * satisfaction), 0.0)
    tickets_per_customer = rng.poisson(ticket_rate)
    ticket_customer = np.repeat(np.arange(count), tickets_per_customer)
    n_tickets = ticket_customer.size
    opened = _uniform_between(rng, first_order[ticket_customer], np.full(n_tickets, end_seconds))
    resolution = (rng.exponential(36 * 3600, n_tickets) + 600).astype(np.int64)
    recent = opened > end_seconds - 3 * DAY_SECONDS
    ticket_status = np.where(
        recent, _weighted(rng, (0.4, 0.3, 0.2, 0.1), n_tickets), _weighted(rng, (0.05, 0.05, 0.6, 0.3), n_tickets)
    )
    resolved = opened + resolution
    unresolved_in_time = (ticket_status >= 2) & (resolved > end_seconds)
    ticket_status = np.where(unresolved_in_time, 1, ticket_status)
    resolved = np.where(ticket_status >= 2, resolved, -1)

    surveys_per_customer = np.where(purchaser, rng.poisson(0.375, count), 0)
    survey_customer = np.repeat(np.arange(count), surveys_per_customer)
    n_surveys = survey_customer.size
    survey_time = _uniform_between(rng, first_order[survey_customer], np.full(n_surveys, end_seconds))
    mood = satisfaction[survey_customer]
    nps = np.clip(np.round(7.2 + 2.2 * mood + rng.normal(0, 1.2, n_surveys)), 0, 10).astype(np.int64)
    csat = np.clip(np.round(3.9 + 0.8 * mood + rng.normal(0, 0.6, n_surveys)), 1, 5).astype(np.int64)
    which = rng.random(n_surveys)
    nps = np.where(which < 0.15, -1, nps)
    csat = np.where(which > 0.85, -1, csat)
    band = np.where(mood < -0.6, 0, np.where(mood < 0.4, 1, 2))
    band_words = [np.flatnonzero(_column(SURVEY_COMMENTS, 2) == b) for b in range(3)]
    comment = np.full(n_surveys, -1)
    for b, members in enumerate(band_words):
        rows = (band == b) & (rng.random(n_surveys) < 0.45)
        comment[rows] = members[rng.integers(0, members.size, int(rows.sum()))]

    customer_updated = _uniform_between(rng, created, np.full(count, end_seconds - 3600))
    customers = {
        "number": number,
        "email_number": number,  # a webshop duplicate keeps the original's address
        "webshop": np.zeros(count, bool),
        "company": company,
        "country": country,
        "city": city,
        "name_a": name_a,
        "name_b": name_b,
        "name_c": name_c,
        "has_email": has_email,
        "email_domain": email_domain,
        "email_case": np.zeros(count, np.int8),
        "email_padded": np.zeros(count, bool),
        "has_phone": has_phone,
        "national": national,
        "phone_style": np.full(count, ctx.layout.phone_style, np.int8),
        "owner": owner,
        "lead_source": lead_source,
        "created": created,
        "updated": customer_updated,
    }
    orders = {
        "number": np.zeros(n_orders, np.int64),  # assigned by the caller (global sequence)
        "customer": order_customer,
        "customer_number": number[order_customer],
        "customer_webshop": np.zeros(n_orders, bool),
        "time": order_time,
        "amount": amount,
        "currency": currency,
        "status": status,
        "channel": channel,
        "updated": order_updated,
    }
    lines = {
        "order": line_order,
        "line_number": line_number,
        "product": product,
        "quantity": quantity,
        "unit_cents": unit_cents,
        "line_cents": line_cents,
    }
    interactions = {
        "customer_number": number[interaction_customer],
        "time": interaction_time,
        "type": interaction_type,
        "channel": interaction_channel,
    }
    tickets = {
        "customer_number": number[ticket_customer],
        "opened": opened,
        "resolved": resolved,
        "status": ticket_status,
        "priority": _weighted(rng, TICKET_PRIORITY_WEIGHTS, n_tickets),
        "category": _weighted(rng, _column(TICKET_CATEGORIES, 2), n_tickets),
    }
    surveys = {
        "customer_number": number[survey_customer],
        "time": survey_time,
        "nps": nps,
        "csat": csat,
        "comment": comment,
    }
    return {
        "customers": customers,
        "orders": orders,
        "order_lines": lines,
        "interactions": interactions,
        "tickets": tickets,
        "surveys": surveys,
        "_first_order": {"time": first_order, "purchaser": purchaser},
    }


def _take(table: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {key: values[rows] for key, values in table.items()}


def _size(table: dict[str, np.ndarray]) -> int:
    return next(iter(table.values())).size


def _identity_duplicates(
    rng: np.random.Generator, model: dict[str, dict], ctx: _Context
) -> tuple[dict[str, np.ndarray], dict[str, int], np.ndarray]:
    """~3% of customers get a second (webshop) record sharing the e-mail or the phone number."""
    customers, orders = model["customers"], model["orders"]
    count = _size(customers)
    eligible = customers["has_email"] & customers["has_phone"]
    probability = min(1.0, 0.03 * count / max(int(eligible.sum()), 1))
    chosen = np.flatnonzero(eligible & (rng.random(count) < probability))
    by_email = rng.random(chosen.size) < 0.6
    dup = _take(customers, chosen)
    start = ctx.counters["webshop"]
    dup["number"] = np.arange(start + 1, start + 1 + chosen.size, dtype=np.int64)
    ctx.counters["webshop"] += chosen.size
    dup["webshop"][:] = True
    dup["has_phone"] = ~by_email
    dup["has_email"] = by_email
    dup["email_case"] = np.where(rng.random(chosen.size) < 0.5, 1, 2).astype(np.int8)
    dup["email_padded"] = rng.random(chosen.size) < 0.5
    other_styles = (ctx.layout.phone_style + rng.integers(1, len(_PHONE_STYLES), chosen.size)) % len(_PHONE_STYLES)
    dup["phone_style"] = other_styles.astype(np.int8)
    dup["owner"] = np.full(chosen.size, -1)
    dup["lead_source"] = np.full(chosen.size, len(LEAD_SOURCES))  # Webshop
    dup["created"] = _uniform_between(rng, customers["created"][chosen], np.full(chosen.size, ctx.end_seconds - 7200))
    dup["updated"] = _uniform_between(rng, dup["created"], np.full(chosen.size, ctx.end_seconds - 3600))
    # Some later orders (never the first) were placed through the webshop account.
    dup_of_customer = np.full(count, -1)
    dup_of_customer[chosen] = np.arange(chosen.size)
    link = dup_of_customer[orders["customer"]]
    first_of_customer = np.r_[True, orders["customer"][1:] != orders["customer"][:-1]]
    moved = (link >= 0) & ~first_of_customer & (rng.random(link.size) < 0.7)
    if chosen.size:
        moved &= orders["time"] >= dup["created"][np.maximum(link, 0)]
        orders["customer_number"] = np.where(moved, dup["number"][np.maximum(link, 0)], orders["customer_number"])
    orders["customer_webshop"] = moved
    stats = {
        "records": int(chosen.size),
        "matched_by_email": int(by_email.sum()),
        "matched_by_phone": int((~by_email).sum()),
        "orders_under_duplicate_id": int(moved.sum()),
    }
    return dup, stats, chosen


def _changed_records(
    rng: np.random.Generator, table: dict[str, np.ndarray], share: float, candidates: np.ndarray, end_seconds: int
) -> np.ndarray:
    """Rows re-exported later: strictly later `updated` (by at least an hour)."""
    eligible = candidates & (table["updated"] <= end_seconds - 2 * DAY_SECONDS)
    return np.flatnonzero(eligible & (rng.random(eligible.size) < share))


def _later(rng: np.random.Generator, updated: np.ndarray, end_seconds: int, within_days: int) -> np.ndarray:
    """A strictly later modification time (at least an hour later, at most `within_days` later)."""
    return _uniform_between(rng, updated + 3600, np.minimum(updated + within_days * DAY_SECONDS, end_seconds))


# ---------------------------------------------------------------------------------------------
# Defects


_ENTITY_DEFECTS = {  # entity -> (kinds, column that gets stray whitespace)
    "customers": (
        ("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace", "mixed_case_email"),
        "customer_name",
    ),
    "orders": (
        (
            "exact_duplicate",
            "blank_id",
            "unparseable_date",
            "non_numeric_amount",
            "wrong_column_count",
            "negative_amount",
            "unknown_currency",
            "orphan_order",
            "stray_whitespace",
        ),
        "channel",
    ),
    "order_lines": (("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace"), "product_id"),
    "products": (("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace"), "product_name"),
    "interactions": (("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace"), "interaction_type"),
    "tickets": (("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace"), "category"),
    "surveys": (("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace"), "customer_id"),
}
_NEW_ORDER_IDS = ("negative_amount", "unknown_currency", "orphan_order")
EXTRA_ORDER_NUMBER_BASE = 9_000_000_000


def _inject_defects(
    rng: np.random.Generator,
    entity: str,
    table: dict[str, np.ndarray],
    file_format: str,
    first_chunk: bool,
    protected: np.ndarray | None,
    ctx: _Context,
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Mark a few rows dirty and insert a few defective copies; every defect touches its own row."""
    n = _size(table)
    kinds = [k for k in _ENTITY_DEFECTS[entity][0] if file_format == "csv" or k != "wrong_column_count"]
    usable = table["has_email"] if entity == "customers" else np.ones(n, bool)  # mixed case needs an e-mail
    if protected is not None:
        usable = usable & ~protected
    wanted = {kind: max(int(first_chunk), round(n * DEFECT_RATE)) for kind in kinds}
    pool = rng.permutation(np.flatnonzero(usable))
    if pool.size == 0:
        return table, {}
    table = {
        **table,
        "_blank": np.zeros(n, bool),
        "_spaces": np.zeros(n, bool),
        "_width": np.zeros(n, np.int64),  # 1: last field missing, 2: one field too many
        "_bad_kind": np.full(n, -1),  # 0 date, 1 amount, 2 currency replaced by junk
        "_bad": np.full(n, -1),  # index into the junk vocabulary
    }
    counts: dict[str, int] = {}
    cursor = 0
    sources = {}
    for kind in kinds:
        take = min(wanted[kind], pool.size - cursor)
        if take <= 0:
            continue
        rows = pool[cursor : cursor + take]
        cursor += take
        counts[kind] = take
        if kind == "stray_whitespace":
            table["_spaces"][rows] = True
        elif kind == "mixed_case_email":
            table["email_case"] = table["email_case"].copy()
            table["email_case"][rows] = 3
        else:
            sources[kind] = rows
    extras = []
    for kind, rows in sources.items():
        copy = _take(table, rows)
        k = rows.size
        if kind == "blank_id":
            copy["_blank"][:] = True
        elif kind == "wrong_column_count":
            copy["_width"] = np.where(np.arange(k) % 2 == 0, 1, 2)
        elif kind == "unparseable_date":
            copy["_bad"] = np.arange(k) % len(BAD_DATES)
            copy["_bad_kind"] = np.full(k, 0)
        elif kind == "non_numeric_amount":
            copy["_bad"] = np.arange(k) % len(BAD_AMOUNTS)
            copy["_bad_kind"] = np.full(k, 1)
        elif kind == "unknown_currency":
            copy["_bad"] = np.arange(k) % len(UNKNOWN_CURRENCIES)
            copy["_bad_kind"] = np.full(k, 2)
        elif kind == "negative_amount":
            copy["amount"] = -np.maximum(copy["amount"], 100)
        elif kind == "orphan_order":
            start = ctx.counters["orphan"]
            copy["customer_number"] = ctx.counters["customers_total"] + 1 + np.arange(start, start + k)
            copy["customer_webshop"] = np.zeros(k, bool)
            ctx.counters["orphan"] += k
        if kind in _NEW_ORDER_IDS:
            start = ctx.counters["extra_orders"]
            copy["number"] = EXTRA_ORDER_NUMBER_BASE + np.arange(start + 1, start + 1 + k)
            ctx.counters["extra_orders"] += k
        extras.append(copy)
    if extras:
        extra = {key: np.concatenate([copy[key] for copy in extras]) for key in table}
        k = _size(extra)
        # Scatter the copies to random places: extra i lands at (its sorted insertion point + i).
        order = rng.permutation(k)
        landing = np.zeros(n + k, bool)
        landing[np.sort(rng.integers(0, n + 1, k)) + np.arange(k)] = True
        merged = {}
        for key, values in table.items():
            column = np.empty(n + k, values.dtype)
            column[~landing] = values
            column[landing] = extra[key][order]
            merged[key] = column
        table = merged
    return table, counts


# ---------------------------------------------------------------------------------------------
# Entity renderers: canonical column -> _Field


def _value_words(
    ctx: _Context, entity: str, column: str, canonical: Sequence[str]
) -> tuple[_Words, np.ndarray, np.ndarray]:
    """The profile's vendor values for canonical values (reversed value map), as words + offsets."""
    entity_profile = ctx.profile.entities.get(entity)
    value_map = entity_profile.value_maps.get(column, {}) if entity_profile else {}
    options: list[list[str]] = []
    for value in canonical:
        vendor = [k for k, v in value_map.items() if v == value]
        options.append(vendor or [value])
    offsets = np.cumsum([0] + [len(o) for o in options])[:-1]
    return _Words([v for o in options for v in o]), offsets, np.array([len(o) for o in options])


def _vendor_field(ctx: _Context, entity: str, column: str, canonical: Sequence[str], idx, key, encoding) -> _Field:
    """Vendor value per row; canonical values with several vendor spellings alternate by `key`."""
    words, offsets, counts = _value_words(ctx, entity, column, canonical)
    return _text_field(words, offsets[idx] + key % counts[idx], encoding)


def _lang(ctx: _Context, pairs: Sequence[tuple], en: int = 0, zh: int = 1) -> _Words:
    return _Words([p[zh] if ctx.layout.language == "zh" else p[en] for p in pairs])


def _customer_fields(t: dict[str, np.ndarray], ctx: _Context, encoding: str) -> dict[str, _Field]:
    layout, n = ctx.layout, _size(t)
    zh = layout.language == "zh"
    company, country = t["company"], t["country"]
    china = country == _CHINA
    all_cities = [city for c in COUNTRIES for city in c.cities]
    space = _const(n, b" ")
    a, b, c = t["name_a"], t["name_b"], t["name_c"]
    person_cn, person_int = ~company & china, ~company & ~china
    company_cn, company_int = company & china, company & ~china
    name_blocks, name_quote = [], np.zeros(n, bool)

    def part(words: _Words, idx: np.ndarray, rows: np.ndarray) -> np.ndarray:
        nonlocal name_quote
        name_quote = name_quote | (words.needs_quote(idx, encoding) & rows)
        return words.block(idx, encoding, rows)

    surnames = _Words([s[0] if zh else s[1] for s in SURNAMES])
    given = _Words([g[0] if zh else g[1] for g in GIVEN_NAMES])
    if zh:
        name_blocks += [part(surnames, a, person_cn), part(given, b, person_cn)]
    else:
        name_blocks += [part(surnames, a, person_cn), _blank_rows(space, ~person_cn), part(given, b, person_cn)]
    name_blocks += [
        part(_Words(FIRST_NAMES), a, person_int),
        _blank_rows(space, ~person_int),
        part(_Words([x[0] for x in LAST_NAMES]), b, person_int),
    ]
    city_short = _Words([x.city_zh if zh else x.city_en for x in all_cities])
    brands = _Words([x[0] if zh else x[1] for x in CHINESE_BRANDS])
    words_cn = _Words([x[3] if zh else x[2] for x in INDUSTRIES])
    suffix_cn = _Words([x[0] if zh else x[1] for x in CHINESE_COMPANY_SUFFIXES])
    gap = _blank_rows(space, ~company_cn) if not zh else np.zeros((n, 0), np.uint8)
    name_blocks += [
        part(city_short, t["city"], company_cn),
        gap,
        part(brands, a, company_cn),
        gap,
        part(words_cn, b, company_cn),
        gap,
        part(suffix_cn, c, company_cn),
    ]
    name_blocks += [
        part(_Words(FOREIGN_BRANDS), a, company_int),
        _blank_rows(space, ~company_int),
        part(_Words([x[2] for x in INDUSTRIES]), b, company_int),
        _blank_rows(space, ~company_int),
        part(_Words([x.company_suffix for x in COUNTRIES]), country, company_int),
    ]
    fields = {"customer_name": _Field(name_blocks, quote=name_quote)}
    fields["customer_id"] = _id_field(layout, "customers", t["number"], t["webshop"])
    fields["customer_type"] = _vendor_field(
        ctx, "customers", "customer_type", ("company", "person"), (~company).astype(np.int64), t["number"], encoding
    )

    # E-mail: local part @ domain, lower case, then the per-row case variant.
    ascii_ = "ascii"
    digits = _digits(t["email_number"])
    local = [
        _Words([g[1].lower() for g in GIVEN_NAMES]).block(b, ascii_, person_cn),
        _Words([x.lower() for x in FIRST_NAMES]).block(a, ascii_, person_int),
        _where(~company, b"."),
        _Words([s[1].lower() for s in SURNAMES]).block(a, ascii_, person_cn),
        _Words([x[1] for x in LAST_NAMES]).block(b, ascii_, person_int),
        _Words(COMPANY_EMAIL_ROLES).block(t["email_domain"], ascii_, company),
        digits,
        _const(n, b"@"),
        _Words(PERSON_EMAIL_DOMAINS_CN).block(t["email_domain"], ascii_, person_cn),
        _Words(PERSON_EMAIL_DOMAINS_INT).block(t["email_domain"], ascii_, person_int),
        _Words([x[1].lower() for x in CHINESE_BRANDS]).block(a, ascii_, company_cn),
        _Words([x.lower().replace(" ", "") for x in FOREIGN_BRANDS]).block(a, ascii_, company_int),
        _Words([x[4] for x in INDUSTRIES]).block(b, ascii_, company),
        _where(company, b"."),
        _Words([x.tld for x in COUNTRIES]).block(country, ascii_, company),
    ]
    email = np.hstack(local)
    case = t["email_case"]
    letters = (email >= 97) & (email <= 122)
    first_letter = np.zeros_like(letters)
    first_letter[np.arange(n), np.argmax(email != 0, axis=1)] = True
    upper = (case == 1)[:, None] | ((case >= 2)[:, None] & first_letter)
    upper |= (case == 3)[:, None] & (np.arange(email.shape[1]) % 3 == 0)[None, :]
    email = np.where(upper & letters, email - 32, email).astype(np.uint8)
    padded = t["email_padded"]
    fields["email"] = _Field([_where(padded, b" "), email, _where(padded, b"  ")], null=~t["has_email"])
    fields["phone"] = _Field(_phone_blocks(t["national"], country, t["phone_style"]), null=~t["has_phone"])
    country_words = {
        "iso": [x.iso for x in COUNTRIES],
        "en": [x.name_en for x in COUNTRIES],
        "zh": [x.name_zh for x in COUNTRIES],
    }[layout.country_style]
    fields["country"] = _text_field(_Words(country_words), country, encoding)
    fields["province"] = _text_field(
        _Words([x.province_zh if zh else x.province_en for x in all_cities]), t["city"], encoding
    )
    city_names = [x.city_zh + ("市" if x.country == "CN" else "") if zh else x.city_en for x in all_cities]
    fields["city"] = _text_field(_Words(city_names), t["city"], encoding)
    fields["industry"] = _text_field(_lang(ctx, INDUSTRIES), b, encoding, null=~company)
    fields["owner"] = _text_field(_lang(ctx, OWNERS, en=1, zh=0), t["owner"], encoding, null=t["owner"] < 0)
    fields["lead_source"] = _text_field(_lang(ctx, [*LEAD_SOURCES, WEBSHOP_SOURCE]), t["lead_source"], encoding)
    fields["created_at"] = _Field(_timestamp_blocks(t["created"], layout))
    fields["updated_at"] = _Field(_timestamp_blocks(t["updated"], layout))
    return fields


def _order_fields(t: dict[str, np.ndarray], ctx: _Context, encoding: str) -> dict[str, _Field]:
    layout = ctx.layout
    day = (t["time"] // DAY_SECONDS).astype(np.int64)
    fields = {
        "order_id": _id_field(layout, "orders", t["number"]),
        "customer_id": _id_field(layout, "customers", t["customer_number"], t["customer_webshop"]),
        "order_date": _Field([_date_matrix(day, layout.date_style)]),
        "amount": _money_field(t["amount"], layout),
        "currency": _text_field(_Words(CURRENCIES), t["currency"], encoding),
        "status": _vendor_field(ctx, "orders", "status", ORDER_STATUSES, t["status"], t["number"], encoding),
        "channel": _text_field(_lang(ctx, CHANNELS), t["channel"], encoding),
        "updated_at": _Field(_timestamp_blocks(t["updated"], layout)),
    }
    if "_bad_kind" in t:
        for kind, column, vocabulary in (
            (0, "order_date", BAD_DATES),
            (1, "amount", BAD_AMOUNTS),
            (2, "currency", UNKNOWN_CURRENCIES),
        ):
            rows = t["_bad_kind"] == kind
            fields[column].override(rows, _Words(vocabulary).block(t["_bad"], encoding, rows))
    return fields


def _line_fields(t: dict[str, np.ndarray], ctx: _Context, encoding: str) -> dict[str, _Field]:
    layout = ctx.layout
    return {
        "order_id": _id_field(layout, "orders", t["order_number"]),
        "line_number": _int_field(t["line_number"]),
        "product_id": _id_field(layout, "products", t["product"] + 1),
        "quantity": _int_field(t["quantity"]),
        "unit_price": _money_field(t["unit_cents"], layout),
        "line_amount": _money_field(t["line_cents"], layout),
    }


def _product_fields(t: dict[str, np.ndarray], ctx: _Context, encoding: str) -> dict[str, _Field]:
    layout, catalogue = ctx.layout, ctx.catalogue
    zh = layout.language == "zh"
    idx = t["product"]
    items = [item[1] if zh else item[0] for item in PRODUCT_ITEMS]
    item_index = catalogue["category"][idx] * (len(PRODUCT_ITEMS) // len(PRODUCT_CATEGORIES)) + catalogue["item"][idx]
    n = idx.size
    name = [
        _Words(items).block(item_index, encoding),
        _const(n, b" "),
        _Words([m[0] for m in PRODUCT_MODELS]).block(catalogue["model"][idx], encoding),
        _const(n, b" "),
        _Words([g[0] for g in PRODUCT_GENERATIONS]).block(catalogue["generation"][idx], encoding),
    ]
    return {
        "product_id": _id_field(layout, "products", idx + 1),
        "product_name": _Field(name),
        "category": _text_field(_lang(ctx, PRODUCT_CATEGORIES), catalogue["category"][idx], encoding),
        "list_price": _money_field(catalogue["list_cents"][idx], layout),
    }


def _interaction_fields(t: dict[str, np.ndarray], ctx: _Context, encoding: str) -> dict[str, _Field]:
    layout = ctx.layout
    return {
        "interaction_id": _id_field(layout, "interactions", t["number"]),
        "customer_id": _id_field(layout, "customers", t["customer_number"]),
        "occurred_at": _Field(_timestamp_blocks(t["time"], layout)),
        "interaction_type": _vendor_field(
            ctx, "interactions", "interaction_type", INTERACTION_TYPES, t["type"], t["number"], encoding
        ),
        "channel": _text_field(_lang(ctx, INTERACTION_CHANNELS), t["channel"], encoding),
    }


def _ticket_fields(t: dict[str, np.ndarray], ctx: _Context, encoding: str) -> dict[str, _Field]:
    layout = ctx.layout
    open_ = t["resolved"] < 0
    return {
        "ticket_id": _id_field(layout, "tickets", t["number"]),
        "customer_id": _id_field(layout, "customers", t["customer_number"]),
        "opened_at": _Field(_timestamp_blocks(t["opened"], layout)),
        "resolved_at": _Field(_timestamp_blocks(np.maximum(t["resolved"], 0), layout), null=open_),
        "status": _vendor_field(ctx, "tickets", "status", TICKET_STATUSES, t["status"], t["number"], encoding),
        "priority": _vendor_field(ctx, "tickets", "priority", TICKET_PRIORITIES, t["priority"], t["number"], encoding),
        "category": _text_field(_lang(ctx, TICKET_CATEGORIES), t["category"], encoding),
    }


def _survey_fields(t: dict[str, np.ndarray], ctx: _Context, encoding: str) -> dict[str, _Field]:
    layout = ctx.layout
    return {
        "response_id": _id_field(layout, "surveys", t["number"]),
        "customer_id": _id_field(layout, "customers", t["customer_number"]),
        "responded_at": _Field(_timestamp_blocks(t["time"], layout)),
        "nps_score": _int_field(t["nps"], null=t["nps"] < 0),
        "csat_score": _int_field(t["csat"], null=t["csat"] < 0),
        "comment": _text_field(_lang(ctx, SURVEY_COMMENTS), t["comment"], encoding, null=t["comment"] < 0),
    }


_RENDERERS: dict[str, Callable[[dict, _Context, str], dict[str, _Field]]] = {
    "customers": _customer_fields,
    "orders": _order_fields,
    "order_lines": _line_fields,
    "products": _product_fields,
    "interactions": _interaction_fields,
    "tickets": _ticket_fields,
    "surveys": _survey_fields,
}
_ID_COLUMNS = {
    "customers": "customer_id",
    "orders": "order_id",
    "order_lines": "order_id",
    "products": "product_id",
    "interactions": "interaction_id",
    "tickets": "ticket_id",
    "surveys": "response_id",
}


# ---------------------------------------------------------------------------------------------
# Files


class _Export:
    """One output file: header on open, rendered chunks appended, rows and defects counted."""

    def __init__(self, out_dir: Path, name: str, entity: str, purpose: str, ctx: _Context):
        layout = ctx.layout
        self.entity = entity
        self.ctx = ctx
        self.file_format = layout.formats.get(entity, "csv")
        self.encoding = "xlsx" if self.file_format == "xlsx" else layout.encodings.get(entity, layout.default_encoding)
        self.value_encoding = "utf-8" if self.encoding in ("utf-8-sig", "xlsx") else self.encoding
        header_map = ctx.profile.entities[entity].header_to_column
        self.headers = list(header_map)
        self.columns = [header_map[h] for h in self.headers]
        self.record = DemoFile(
            name=f"{name}.{_FILE_SUFFIX[self.file_format]}",
            entity=entity,
            file_format=self.file_format,
            encoding=self.encoding,
            purpose=purpose,
        )
        self.path = out_dir / self.record.name
        self._handle = None
        if self.file_format != "xlsx":
            self._handle = open(self.path, "wb")  # noqa: SIM115 - closed in close()
            if self.encoding == "utf-8-sig":
                self._handle.write(b"\xef\xbb\xbf")
            if self.file_format == "csv":
                text = io.StringIO()
                csv.writer(text, lineterminator=layout.line_end.decode("ascii")).writerow(self.headers)
                self._handle.write(text.getvalue().encode(self.value_encoding))

    def _fields(self, table: dict[str, np.ndarray]) -> list[_Field]:
        by_column = _RENDERERS[self.entity](table, self.ctx, self.value_encoding)
        if "_blank" in table:
            id_field = by_column[_ID_COLUMNS[self.entity]]
            blank = table["_blank"]
            id_field.null = blank if id_field.null is None else id_field.null | blank
            by_column[_ENTITY_DEFECTS[self.entity][1]].pad_with_spaces(table["_spaces"])
        return [by_column[column] for column in self.columns]

    def write(self, table: dict[str, np.ndarray], defects: dict[str, int] | None = None) -> None:
        n = _size(table)
        for kind, count in (defects or {}).items():
            self.record.defects[kind] = self.record.defects.get(kind, 0) + count
        self.record.rows += n
        if self.file_format == "xlsx":
            self._write_xlsx(table)
            return
        for low in range(0, n, RENDER_ROWS):
            part = {key: values[low : low + RENDER_ROWS] for key, values in table.items()}
            fields = self._fields(part)
            if self.file_format == "jsonl":
                data = _render_jsonl(self.headers, fields)
            else:
                width = part.get("_width", np.zeros(_size(part), np.int64))
                data = _render_csv(fields, width, self.ctx.layout.line_end)
            self._handle.write(data)

    def _write_xlsx(self, table: dict[str, np.ndarray]) -> None:
        import xlsxwriter

        fields = self._fields(table)
        columns = [_field_strings(f, "utf-8") for f in fields]
        money_columns = {i for i, f in enumerate(fields) if not f.is_text and self.columns[i] == "list_price"}
        prices = self.ctx.catalogue["list_cents"][table["product"]] / 100
        end = datetime.fromordinal(date(1970, 1, 1).toordinal() + self.ctx.end_day)
        workbook = xlsxwriter.Workbook(str(self.path), {"constant_memory": True})
        workbook.set_properties({"created": end})  # fixed: same arguments, same bytes
        number_format = workbook.add_format({"num_format": "#,##0.00" if self.ctx.layout.thousands else "0.00"})
        sheet = workbook.add_worksheet(self.ctx.profile.entities[self.entity].module or self.entity)
        sheet.write_row(0, 0, self.headers)
        for row in range(len(prices)):  # a few hundred catalogue rows
            for col, values in enumerate(columns):
                if col in money_columns:
                    sheet.write_number(row + 1, col, float(prices[row]), number_format)
                elif values[row] is not None:
                    sheet.write_string(row + 1, col, values[row])
        workbook.close()

    def close(self) -> DemoFile:
        if self._handle is not None:
            self._handle.close()
        return self.record


# ---------------------------------------------------------------------------------------------
# Public entry point


def generate_demo_exports(
    out_dir: Path,
    customers: int,
    *,
    seed: int = 42,
    profile: str = "generic",
    defects: bool = False,
    end_date: date,
    progress: Callable[[str], None] | None = None,
) -> DemoManifest:
    """Write demo CRM exports for `customers` customers in `profile`'s layout into `out_dir`.

    Same arguments give byte-identical files. Returns (and writes to `out_dir/_demo_manifest.json`)
    the manifest: every file with its data rows and, with `defects`, the exact count of each defect.
    """
    profiles = load_profiles()
    if profile not in profiles:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(sorted(profiles))}")
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS:,}, got {customers}")
    vendor = profiles[profile]
    missing = [e for e in ENTITIES if e not in vendor.entities]
    if missing:
        raise ValueError(f"profile {profile!r} has no layout for {', '.join(missing)}; cannot write demo data")
    layout = replace(_LAYOUTS.get(profile, _LAYOUTS["generic"]), thousands=vendor.thousands_separator)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda _message: None)

    interaction_map = vendor.entities["interactions"].value_maps.get("interaction_type")
    allowed = [i for i, v in enumerate(INTERACTION_TYPES) if not interaction_map or v in interaction_map.values()]
    end_day = (end_date - date(1970, 1, 1)).days
    ctx = _Context(
        profile=vendor,
        layout=layout,
        end_day=end_day,
        end_seconds=(end_day + 1) * DAY_SECONDS - 1,
        catalogue=_build_catalogue(seed),
        interaction_types=np.asarray(allowed),
        counters={
            **dict.fromkeys(("webshop", "orders", "interactions", "tickets", "surveys", "extra_orders", "orphan"), 0),
            "customers_total": customers,
        },
    )
    manifest = DemoManifest(
        profile=profile, seed=seed, customers=customers, end_date=end_date.isoformat(), with_defects=defects
    )
    exports = {entity: _Export(out_dir, f"{profile}_{entity}", entity, "main", ctx) for entity in ENTITIES}
    exports["customers_webshop"] = _Export(
        out_dir, f"{profile}_customers_webshop", "customers", "identity_duplicates", ctx
    )
    exports["customers_changes"] = _Export(out_dir, f"{profile}_customers_changes", "customers", "changed_records", ctx)
    exports["orders_changes"] = _Export(out_dir, f"{profile}_orders_changes", "orders", "changed_records", ctx)
    records = dict.fromkeys(ENTITIES, 0)
    identity = {"records": 0, "matched_by_email": 0, "matched_by_phone": 0, "orders_under_duplicate_id": 0}
    changed = {"customers": 0, "orders": 0}
    leads = 0
    try:
        catalogue_size = ctx.catalogue["list_cents"].size
        products = {"product": np.arange(catalogue_size)}
        records["products"] = catalogue_size
        product_defects: dict[str, int] = {}
        if defects:
            rng = np.random.default_rng([seed, 2])
            products, product_defects = _inject_defects(
                rng, "products", products, exports["products"].file_format, True, None, ctx
            )
        exports["products"].write(products, product_defects)

        chunks = range(0, customers, CHUNK_CUSTOMERS)
        for chunk_index, low in enumerate(chunks):
            count = min(CHUNK_CUSTOMERS, customers - low)
            rng = np.random.default_rng([seed, 0, chunk_index])
            model = _simulate_chunk(rng, low + 1, count, ctx)
            dup, dup_stats, dup_rows = _identity_duplicates(rng, model, ctx)
            for key, value in dup_stats.items():
                identity[key] += value
            leads += int((np.bincount(model["orders"]["customer"], minlength=count) == 0).sum())

            for entity in ("orders", "interactions", "tickets", "surveys"):
                table = model[entity]
                size = _size(table)
                table["number"] = ctx.counters[entity] + 1 + np.arange(size, dtype=np.int64)
                ctx.counters[entity] += size
            model["order_lines"]["order_number"] = model["orders"]["number"][model["order_lines"]["order"]]

            # Re-exports of changed records: customers get a new owner, orders get refunded.
            customers_table, orders_table = model["customers"], model["orders"]
            not_duplicated = np.ones(count, bool)
            not_duplicated[dup_rows] = False
            changed_customers = _changed_records(rng, customers_table, 0.005, not_duplicated, ctx.end_seconds)
            customer_changes = _take(customers_table, changed_customers)
            customer_changes["owner"] = (
                customer_changes["owner"] + rng.integers(1, len(OWNERS), changed_customers.size)
            ) % len(OWNERS)
            customer_changes["updated"] = _later(rng, customer_changes["updated"], ctx.end_seconds, HISTORY_DAYS)
            changed_orders = _changed_records(rng, orders_table, 0.003, orders_table["status"] == 0, ctx.end_seconds)
            order_changes = _take(orders_table, changed_orders)
            order_changes["status"] = np.full(changed_orders.size, ORDER_STATUSES.index("refunded"))
            order_changes["updated"] = _later(rng, order_changes["updated"], ctx.end_seconds, 60)
            changed["customers"] += int(changed_customers.size)
            changed["orders"] += int(changed_orders.size)

            protected = {
                "customers": ~not_duplicated | np.isin(np.arange(count), changed_customers),
                "orders": np.isin(np.arange(_size(orders_table)), changed_orders),
            }
            for entity in ("customers", "orders", "order_lines", "interactions", "tickets", "surveys"):
                table = model[entity]
                records[entity] += _size(table)
                found: dict[str, int] = {}
                if defects:
                    table, found = _inject_defects(
                        rng, entity, table, exports[entity].file_format, chunk_index == 0, protected.get(entity), ctx
                    )
                exports[entity].write(table, found)
            exports["customers_webshop"].write(dup)
            exports["customers_changes"].write(customer_changes)
            exports["orders_changes"].write(order_changes)
            report(f"{profile}: {low + count:,} of {customers:,} customers written")
    finally:
        manifest.files = [export.close() for export in exports.values()]
    manifest.records = records
    manifest.leads_without_orders = leads
    manifest.identity_duplicates = identity
    manifest.changed_records = changed
    (out_dir / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest
