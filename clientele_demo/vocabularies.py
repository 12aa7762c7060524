"""Value vocabularies of the demo CRM: places, names, companies, owners, channels, products, tickets, surveys.

Tables are `|`-separated text (rows separated by newlines or `;`), so a row reads like a line of a spreadsheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def table(text: str) -> tuple[tuple[str, ...], ...]:
    rows = [row for line in text.strip().splitlines() for row in line.split(";")]
    return tuple(tuple(part.strip() for part in row.split("|")) for row in rows if row.strip())


def words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


def numeric_column(rows: Sequence[Sequence[str]], index: int) -> np.ndarray:
    """One numeric column of a vocabulary table (weights, bounds)."""
    return np.array([float(row[index]) for row in rows])


@dataclass(frozen=True)
class City:
    country: str  # ISO 3166-1 alpha-2
    province_en: str
    province_zh: str
    city_en: str
    city_zh: str  # short form; Chinese exports add 市
    tier: str  # China: the tier of dbt_project/seeds/city_tiers.csv (tier_3_plus when not listed there); else ""
    weight: float


# Tiers and provinces agree with the city_tiers seed. Taizhou is two cities: 台州 (Zhejiang, listed in the
# seed) and 泰州 (Jiangsu, not listed): English exports carry the same city name in two provinces.
_CHINA_TIER_WEIGHTS = {"tier_1": 6.0, "new_tier_1": 2.5, "tier_2": 1.2, "tier_3_plus": 0.5}
CHINA_CITIES: tuple[City, ...] = tuple(
    City("CN", province_en, province_zh, city_en, city_zh, tier, _CHINA_TIER_WEIGHTS[tier])
    for tier, province_en, province_zh, city_en, city_zh in table(
        """
        tier_1|Beijing|北京市|Beijing|北京; tier_1|Shanghai|上海市|Shanghai|上海
        tier_1|Guangdong|广东省|Guangzhou|广州; tier_1|Guangdong|广东省|Shenzhen|深圳
        new_tier_1|Sichuan|四川省|Chengdu|成都; new_tier_1|Zhejiang|浙江省|Hangzhou|杭州
        new_tier_1|Chongqing|重庆市|Chongqing|重庆; new_tier_1|Jiangsu|江苏省|Suzhou|苏州
        new_tier_1|Hubei|湖北省|Wuhan|武汉; new_tier_1|Shaanxi|陕西省|Xi'an|西安
        new_tier_1|Jiangsu|江苏省|Nanjing|南京; new_tier_1|Hunan|湖南省|Changsha|长沙
        new_tier_1|Tianjin|天津市|Tianjin|天津; new_tier_1|Henan|河南省|Zhengzhou|郑州
        new_tier_1|Guangdong|广东省|Dongguan|东莞; new_tier_1|Jiangsu|江苏省|Wuxi|无锡
        new_tier_1|Zhejiang|浙江省|Ningbo|宁波; new_tier_1|Shandong|山东省|Qingdao|青岛
        new_tier_1|Anhui|安徽省|Hefei|合肥
        tier_2|Guangdong|广东省|Foshan|佛山; tier_2|Liaoning|辽宁省|Shenyang|沈阳; tier_2|Yunnan|云南省|Kunming|昆明
        tier_2|Shandong|山东省|Jinan|济南; tier_2|Fujian|福建省|Xiamen|厦门; tier_2|Fujian|福建省|Fuzhou|福州
        tier_2|Zhejiang|浙江省|Wenzhou|温州; tier_2|Heilongjiang|黑龙江省|Harbin|哈尔滨
        tier_2|Hebei|河北省|Shijiazhuang|石家庄; tier_2|Liaoning|辽宁省|Dalian|大连
        tier_2|Guangxi|广西壮族自治区|Nanning|南宁; tier_2|Fujian|福建省|Quanzhou|泉州
        tier_2|Guizhou|贵州省|Guiyang|贵阳; tier_2|Jiangsu|江苏省|Changzhou|常州; tier_2|Jilin|吉林省|Changchun|长春
        tier_2|Jiangxi|江西省|Nanchang|南昌; tier_2|Jiangsu|江苏省|Nantong|南通; tier_2|Shanxi|山西省|Taiyuan|太原
        tier_2|Zhejiang|浙江省|Taizhou|台州; tier_2|Zhejiang|浙江省|Shaoxing|绍兴; tier_2|Guangdong|广东省|Zhuhai|珠海
        tier_2|Shandong|山东省|Weifang|潍坊; tier_2|Shandong|山东省|Yantai|烟台
        tier_3_plus|Jiangsu|江苏省|Taizhou|泰州; tier_3_plus|Henan|河南省|Luoyang|洛阳
        tier_3_plus|Jiangsu|江苏省|Yangzhou|扬州; tier_3_plus|Guangxi|广西壮族自治区|Guilin|桂林
        tier_3_plus|Gansu|甘肃省|Lanzhou|兰州; tier_3_plus|Hainan|海南省|Haikou|海口
        tier_3_plus|Ningxia|宁夏回族自治区|Yinchuan|银川; tier_3_plus|Qinghai|青海省|Xining|西宁
        tier_3_plus|Inner Mongolia|内蒙古自治区|Hohhot|呼和浩特; tier_3_plus|Xinjiang|新疆维吾尔自治区|Urumqi|乌鲁木齐
        tier_3_plus|Hubei|湖北省|Yichang|宜昌; tier_3_plus|Sichuan|四川省|Mianyang|绵阳
        tier_3_plus|Jiangxi|江西省|Ganzhou|赣州
        """
    )
)
_FOREIGN_CITIES = table(
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
    for iso, name_en, name_zh, calling_code, currency, weight, suffix, tld in table(
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
ALL_CITIES: tuple[City, ...] = tuple(city for country in COUNTRIES for city in country.cities)
CHINA = next(i for i, c in enumerate(COUNTRIES) if c.iso == "CN")

# Order currencies and their USD rates, as in dbt_project/seeds/fx_rates.csv (a test keeps them equal), so an
# order line at list price converts back to the list price.
CURRENCIES = ("CNY", "USD", "EUR", "GBP", "JPY", "SGD")
RATE_TO_USD = np.array([0.1380, 1.0, 1.0800, 1.2700, 0.0067, 0.7400])
CNY_PER_UNIT = RATE_TO_USD / RATE_TO_USD[0]
JPY = CURRENCIES.index("JPY")
USD = CURRENCIES.index("USD")

SURNAMES = table(  # (汉字, pinyin)
    """
    王|Wang; 李|Li; 张|Zhang; 刘|Liu; 陈|Chen; 杨|Yang; 黄|Huang; 赵|Zhao; 吴|Wu; 周|Zhou; 徐|Xu; 孙|Sun
    马|Ma; 朱|Zhu; 胡|Hu; 郭|Guo; 何|He; 高|Gao; 林|Lin; 罗|Luo; 郑|Zheng; 梁|Liang; 谢|Xie; 宋|Song
    唐|Tang; 韩|Han; 冯|Feng; 邓|Deng; 曹|Cao; 彭|Peng
    """
)
GIVEN_NAMES = table(
    """
    伟|Wei; 芳|Fang; 娜|Na; 秀英|Xiuying; 敏|Min; 静|Jing; 丽|Li; 强|Qiang; 磊|Lei; 军|Jun; 洋|Yang
    勇|Yong; 艳|Yan; 杰|Jie; 娟|Juan; 涛|Tao; 明|Ming; 超|Chao; 秀兰|Xiulan; 霞|Xia; 平|Ping; 刚|Gang
    建华|Jianhua; 志强|Zhiqiang; 晓明|Xiaoming; 丹|Dan; 浩然|Haoran; 子涵|Zihan; 欣怡|Xinyi; 宇轩|Yuxuan
    雨桐|Yutong; 思远|Siyuan
    """
)
FIRST_NAMES = words(
    """James, Mary, John, Patricia, Robert, Jennifer, Michael, Linda, David, Sarah, Thomas, Emma, Daniel,
    Olivia, Lukas, Anna, Felix, Sophie, Oliver, Charlotte, Hiroshi, Yuki, Kenji, Sakura, Minjun, Seoyeon,
    Pierre, Camille, Liam, Chloe"""
)
LAST_NAMES = table(  # (display, ASCII for e-mail addresses)
    """
    Smith|smith; Johnson|johnson; Williams|williams; Brown|brown; Miller|miller; Davis|davis
    Wilson|wilson; Taylor|taylor; Müller|mueller; Schmidt|schmidt; Schneider|schneider; Fischer|fischer
    Weber|weber; Martin|martin; Dubois|dubois; Lefèvre|lefevre; Tanaka|tanaka; Suzuki|suzuki; Sato|sato
    Takahashi|takahashi; Tan|tan; Lim|lim; Kim|kim; Park|park; Evans|evans; Walker|walker; Clarke|clarke
    O'Brien|obrien; Nguyen|nguyen; Lee|lee
    """
)
CHINESE_BRANDS = table(
    """
    恒达|Hengda; 华信|Huaxin; 金桥|Jinqiao; 东方|Dongfang; 天宇|Tianyu; 新锐|Xinrui; 博远|Boyuan
    宏图|Hongtu; 中科|Zhongke; 瑞丰|Ruifeng; 鼎盛|Dingsheng; 卓越|Zhuoyue; 汇通|Huitong; 嘉禾|Jiahe
    长城|Changcheng; 蓝海|Lanhai; 海纳|Haina; 盛世|Shengshi; 智联|Zhilian; 云帆|Yunfan
    """
)
CHINESE_COMPANY_SUFFIXES = table("有限公司|Co., Ltd.; 股份有限公司|Holdings Co., Ltd.; 集团|Group")
FOREIGN_BRANDS = words(
    """Northwind, Contoso, Globex, Initech, Blue Harbor, Silverline, Nordwerk, Redwood, Sakura, Lionsgate,
    Brightwater, Keystone, Meridian, Summit, Atlas, Evergreen"""
)
INDUSTRIES = table(  # (industry en, industry zh, company-name word en, zh, e-mail domain word)
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
OWNERS = table(  # (zh, en)
    """
    张伟|Zhang Wei; 王芳|Wang Fang; 李娜|Li Na; 刘洋|Liu Yang; 陈静|Chen Jing; 杨磊|Yang Lei
    赵敏|Zhao Min; 黄涛|Huang Tao; 周杰|Zhou Jie; 吴霞|Wu Xia; 徐明|Xu Ming; 孙丽|Sun Li; 马超|Ma Chao
    朱丹|Zhu Dan; 胡军|Hu Jun; 郭平|Guo Ping; 何勇|He Yong; 高艳|Gao Yan; 林浩然|Lin Haoran
    罗欣怡|Luo Xinyi; 郑强|Zheng Qiang; 梁娟|Liang Juan; Emily Carter|Emily Carter; Jonas Becker|Jonas Becker
    """
)
LEAD_SOURCES = table(  # (en, zh, weight for accounts, weight for persons)
    """
    Website|官网|0.20|0.30; Referral|客户转介绍|0.18|0.12; Trade Show|展会|0.15|0.02
    Advertisement|广告投放|0.07|0.16; Cold Call|电话营销|0.12|0.04; Partner|合作伙伴|0.14|0.04
    Social Media|社交媒体|0.06|0.16; E-commerce|电商平台|0.08|0.16
    """
)
WEBSHOP_SOURCE = ("Webshop", "网上商城")  # rendered after LEAD_SOURCES: index len(LEAD_SOURCES)
CHANNELS = table(  # (en, zh, weight for accounts, weight for persons)
    """
    Direct Sales|直销|0.40|0.05; Distributor|经销商|0.30|0.05; Online Store|官方商城|0.10|0.35
    Marketplace|电商平台|0.05|0.35; Retail Store|门店|0.05|0.15; Phone Order|电话订购|0.10|0.05
    """
)
ORDER_STATUSES = ("completed", "cancelled", "refunded")
COMPLETED, CANCELLED, REFUNDED = range(3)

INTERACTION_TYPES = ("call", "email", "visit", "meeting", "wechat")
# Who prefers which: accounts meet and visit, persons message; each customer has a favourite type.
INTERACTION_TYPE_WEIGHTS = {"company": (0.30, 0.30, 0.12, 0.20, 0.08), "person": (0.28, 0.22, 0.03, 0.05, 0.42)}
INTERACTION_CHANNELS = table("Phone|电话; Email|邮件; On-site|现场; Video Call|视频会议; WeChat|微信")
ON_SITE = 2  # index in INTERACTION_CHANNELS; meetings are on-site or video calls
TICKET_STATUSES = ("open", "pending", "resolved", "closed")
TICKET_PRIORITIES = ("low", "medium", "high", "urgent")
TICKET_PRIORITY_WEIGHTS = (0.30, 0.45, 0.20, 0.05)
TICKET_CATEGORIES = table(  # (en, zh, weight)
    """
    Billing|账单问题|0.15; Delivery|物流配送|0.22; Product Defect|产品质量|0.18; Installation|安装调试|0.12
    Account|账户问题|0.08; Returns|退换货|0.13; How-to|使用咨询|0.12
    """
)
SURVEY_COMMENTS = table(  # (en, zh, band: 0 negative, 1 neutral, 2 positive)
    """
    Great service, will buy again|服务很好，会再次购买|2; Fast delivery|发货很快|2
    Very satisfied with the product quality|对产品质量非常满意|2; Helpful sales rep|销售顾问很专业|2
    Okay overall|整体还可以|1; Price is a bit high|价格偏高|1; Delivery could be faster|物流可以更快一些|1
    Product arrived damaged|收到的产品有损坏|0; Support was slow to respond|客服响应太慢|0
    Not worth the price|性价比不高|0; Would not recommend|不会推荐给朋友|0
    """
)
PERSON_EMAIL_DOMAINS_CN = words("qq.com, 163.com, 126.com, sina.com, outlook.com")
PERSON_EMAIL_DOMAINS_INT = words("gmail.com, outlook.com, yahoo.com, icloud.com")
COMPANY_EMAIL_ROLES = words("info, sales, purchasing, contact, admin")

# When persons order (hour of day, China time, and how many prefer it); accounts order in office hours.
PERSON_ORDER_HOURS = table("8.5|0.10; 12.5|0.25; 15.5|0.15; 20.5|0.35; 23.3|0.15")

# Product catalogue: 10 categories x 4 items x 5 models x 2 generations = 400 products.
PRODUCT_CATEGORIES = table(  # (en, zh, min CNY, max CNY, weight accounts, weight persons, items en/zh)
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
PRODUCT_ITEMS = tuple(tuple(item.split("/")) for row in PRODUCT_CATEGORIES for item in words(row[6]))
PRODUCT_MODELS = (("Lite", 0.7), ("Standard", 1.0), ("Plus", 1.2), ("Pro", 1.45), ("Max", 1.9))
PRODUCT_GENERATIONS = (("100", 1.0), ("200", 1.15))
# Categories bought together (either way round), with how strongly: a laptop comes with a mouse and a licence.
CATEGORY_COMPANIONS = table(
    """
    Computers|Accessories|3.0; Computers|Software|2.5; Computers|Displays|2.0; Displays|Audio & Video|1.5
    Networking|Services|2.0; Software|Services|1.5; Printing|Office Furniture|1.5; Smart Home|Audio & Video|2.0
    Accessories|Audio & Video|1.0
    """
)
