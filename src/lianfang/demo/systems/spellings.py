"""How each vendor spells the standard's codes: standard code -> the vendor's word.

These are the legacy systems' vocabularies (what their exports contain), written
out here rather than read from the standard: the standard is what they map *to*.
``tests/demo`` checks that every value map target is a code of the standard.
"""

from __future__ import annotations

from typing import Final

ZH_ETHNIC: Final = {
    "01": "汉族", "02": "蒙古族", "03": "回族", "04": "藏族", "05": "维吾尔族", "06": "苗族",
    "07": "彝族", "08": "壮族", "09": "布依族", "10": "朝鲜族", "11": "满族", "12": "侗族",
    "13": "瑶族", "14": "白族", "15": "土家族", "97": "其他", "98": "外国血统中国籍人士",
}
ZH_ETHNIC_SHORT: Final = {k: (v[:-1] if v.endswith("族") else v) for k, v in ZH_ETHNIC.items()}
EN_ETHNIC: Final = {
    "01": "Han", "02": "Mongol", "03": "Hui", "04": "Tibetan", "05": "Uyghur", "06": "Miao",
    "07": "Yi", "08": "Zhuang", "09": "Buyei", "10": "Korean", "11": "Manchu", "12": "Dong",
    "13": "Yao", "14": "Bai", "15": "Tujia", "97": "Other", "98": "Naturalised",
}
NO_ZERO: Final = {f"{n:02d}": str(n) for n in range(1, 100)}  # "02" written "2"

ZH_SEX: Final = {"1": "男", "2": "女"}
EN_SEX: Final = {"1": "M", "2": "F"}

ZH_TAG: Final = {"01": "在逃人员", "02": "前科人员", "03": "重点关注人员", "04": "涉案嫌疑人",
                 "05": "受保护证人", "99": "其他"}
EN_TAG: Final = {"01": "fugitive", "02": "prior_offender", "03": "person_of_interest",
                 "04": "suspect", "05": "protected_witness", "99": "other"}

ZH_PLATE_TYPE: Final = {"01": "大型汽车", "02": "小型汽车", "15": "挂车", "16": "教练汽车",
                        "23": "警用汽车", "51": "大型新能源汽车", "52": "小型新能源汽车", "99": "其他号牌"}
EN_PLATE_TYPE: Final = {"01": "large", "02": "small", "15": "trailer", "16": "coach", "23": "police",
                        "51": "ne_large", "52": "ne_small", "99": "other"}

ZH_COLOUR: Final = {"1": "黑", "2": "白", "3": "灰", "4": "红", "5": "蓝", "6": "黄", "7": "橙",
                    "8": "棕", "9": "绿", "10": "紫", "11": "青", "12": "粉", "13": "透明", "99": "其他"}
ZH_BODY_COLOUR: Final = {k: (v + "色" if len(v) == 1 else v) for k, v in ZH_COLOUR.items()}
EN_COLOUR: Final = {"1": "black", "2": "white", "3": "grey", "4": "red", "5": "blue", "6": "yellow",
                    "7": "orange", "8": "brown", "9": "green", "10": "purple", "11": "cyan",
                    "12": "pink", "13": "transparent", "99": "other"}
#: GA 24.8 plate colours (traffic systems): 0 白 1 黄 2 蓝 3 黑 4 绿 9 其他.
GA248_PLATE_COLOUR: Final = {"2": "0", "6": "1", "5": "2", "1": "3", "9": "4", "99": "9"}
#: GA 24.8 body colours: A 白 B 灰 C 黄 D 粉 E 红 F 紫 G 绿 H 蓝 I 棕 J 黑 Z 其他.
GA248_BODY_COLOUR: Final = {"2": "A", "3": "B", "6": "C", "12": "D", "4": "E", "10": "F", "9": "G",
                            "5": "H", "8": "I", "1": "J", "99": "Z"}
#: The XML vendor's own checkpoint colour table: 0 白 1 黄 2 蓝 3 黑 4 绿 5 红 6 灰 7 棕 8 紫 9 其他.
XML_COLOUR: Final = {"2": "0", "6": "1", "5": "2", "1": "3", "9": "4", "4": "5", "3": "6", "8": "7",
                     "10": "8", "99": "9"}

ZH_CASE: Final = {"0101": "盗窃", "0102": "入室盗窃", "0103": "盗窃机动车", "0201": "抢劫",
                  "0301": "诈骗", "0302": "电信网络诈骗", "0401": "故意伤害", "0501": "毒品犯罪",
                  "0601": "交通肇事", "0701": "扰乱公共秩序", "9999": "其他"}
EN_CASE: Final = {"0101": "theft", "0102": "burglary", "0103": "vehicle_theft", "0201": "robbery",
                  "0301": "fraud", "0302": "telecom_fraud", "0401": "assault", "0501": "drugs",
                  "0601": "traffic", "0701": "public_disorder", "9999": "other"}
ZH_CASE_STATUS: Final = {"10": "已受理", "20": "侦查中", "30": "已破案", "40": "已移送起诉", "90": "已撤销"}
EN_CASE_STATUS: Final = {"10": "registered", "20": "investigating", "30": "solved",
                         "40": "prosecuted", "90": "withdrawn"}

ZH_ALERT: Final = {"01": "盗窃高发", "02": "诈骗预警", "03": "在逃人员", "04": "可疑车辆",
                   "05": "群体性事件", "99": "其他"}
EN_ALERT: Final = {"01": "theft_hotspot", "02": "fraud", "03": "fugitive", "04": "suspicious_vehicle",
                   "05": "mass_incident", "99": "other"}
ZH_SEVERITY: Final = {"1": "红色", "2": "橙色", "3": "黄色", "4": "蓝色"}
EN_SEVERITY: Final = {"1": "red", "2": "orange", "3": "yellow", "4": "blue"}

ZH_HELP: Final = {"10": "刑事警情", "20": "治安警情", "30": "交通事故", "40": "群众求助", "50": "纠纷",
                  "99": "其他"}
EN_HELP: Final = {"10": "criminal", "20": "public_order", "30": "traffic", "40": "assistance",
                  "50": "dispute", "99": "other"}
ZH_HELP_STATUS: Final = {"1": "已接警", "2": "已派警", "3": "已处置", "4": "已反馈"}
EN_HELP_STATUS: Final = {"1": "received", "2": "dispatched", "3": "handled", "4": "closed"}

ZH_DIRECTION: Final = {"1": "东向西", "2": "西向东", "3": "南向北", "4": "北向南", "9": "其他"}
EN_DIRECTION: Final = {"1": "E-W", "2": "W-E", "3": "S-N", "4": "N-S", "9": "other"}
