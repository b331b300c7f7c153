"""Word lists for realistic bench data: Chinese and English company and person names, places, phrases."""

# (Chinese, pinyin/English, province)
CITIES = [
    ("上海", "Shanghai", "上海"), ("北京", "Beijing", "北京"), ("广州", "Guangzhou", "广东"),
    ("深圳", "Shenzhen", "广东"), ("杭州", "Hangzhou", "浙江"), ("南京", "Nanjing", "江苏"),
    ("苏州", "Suzhou", "江苏"), ("成都", "Chengdu", "四川"), ("武汉", "Wuhan", "湖北"),
    ("西安", "Xian", "陕西"), ("重庆", "Chongqing", "重庆"), ("天津", "Tianjin", "天津"),
    ("青岛", "Qingdao", "山东"), ("济南", "Jinan", "山东"), ("厦门", "Xiamen", "福建"),
    ("福州", "Fuzhou", "福建"), ("宁波", "Ningbo", "浙江"), ("无锡", "Wuxi", "江苏"),
    ("长沙", "Changsha", "湖南"), ("郑州", "Zhengzhou", "河南"), ("合肥", "Hefei", "安徽"),
    ("昆明", "Kunming", "云南"), ("大连", "Dalian", "辽宁"), ("沈阳", "Shenyang", "辽宁"),
    ("东莞", "Dongguan", "广东"), ("佛山", "Foshan", "广东"), ("南昌", "Nanchang", "江西"),
    ("石家庄", "Shijiazhuang", "河北"), ("哈尔滨", "Harbin", "黑龙江"), ("长春", "Changchun", "吉林"),
    ("南宁", "Nanning", "广西"), ("贵阳", "Guiyang", "贵州"), ("太原", "Taiyuan", "山西"),
    ("兰州", "Lanzhou", "甘肃"), ("温州", "Wenzhou", "浙江"), ("常州", "Changzhou", "江苏"),
    ("珠海", "Zhuhai", "广东"), ("烟台", "Yantai", "山东"), ("泉州", "Quanzhou", "福建"),
    ("海口", "Haikou", "海南"),
]

# (Chinese trade name, pinyin, English rendering)
WORDS = [
    ("华信", "huaxin", "Huaxin"), ("金桥", "jinqiao", "Golden Bridge"), ("恒通", "hengtong", "Hengtong"),
    ("宏达", "hongda", "Hongda"), ("天成", "tiancheng", "Tiancheng"), ("瑞丰", "ruifeng", "Ruifeng"),
    ("盛世", "shengshi", "Prosperity"), ("长城", "changcheng", "Great Wall"), ("东方", "dongfang", "Oriental"),
    ("新世纪", "xinshiji", "New Century"), ("光明", "guangming", "Bright"), ("鼎盛", "dingsheng", "Dingsheng"),
    ("中科", "zhongke", "Zhongke"), ("博远", "boyuan", "Boyuan"), ("嘉禾", "jiahe", "Jiahe"),
    ("永安", "yongan", "Everpeace"), ("汇丰", "huifeng", "Huifeng"), ("泰和", "taihe", "Taihe"),
    ("同创", "tongchuang", "Co-Create"), ("远航", "yuanhang", "Far Voyage"), ("星辰", "xingchen", "Star"),
    ("蓝海", "lanhai", "Blue Ocean"), ("祥云", "xiangyun", "Lucky Cloud"), ("锦绣", "jinxiu", "Splendid"),
    ("联合", "lianhe", "United"), ("海纳", "haina", "Haina"), ("智联", "zhilian", "Smartlink"),
    ("腾飞", "tengfei", "Soaring"), ("万达", "wanda", "Wanda"), ("君安", "junan", "Junan"),
    ("卓越", "zhuoyue", "Excel"), ("晨光", "chenguang", "Morning Light"), ("和信", "hexin", "Hexin"),
    ("安泰", "antai", "Antai"), ("昌盛", "changsheng", "Changsheng"), ("明德", "mingde", "Mingde"),
    ("凯瑞", "kairui", "Kerry"), ("百川", "baichuan", "Hundred Rivers"), ("万通", "wantong", "Wantong"),
    ("红星", "hongxing", "Red Star"), ("金鹰", "jinying", "Golden Eagle"), ("飞跃", "feiyue", "Leap"),
    ("华夏", "huaxia", "Cathay"), ("正泰", "zhengtai", "Zhengtai"), ("新奥", "xinao", "Xinao"),
    ("天宇", "tianyu", "Skyworld"), ("国泰", "guotai", "Guotai"), ("德润", "derun", "Derun"),
]

# (Chinese, English) — the English one is also the customer's industry
INDUSTRIES = [
    ("科技", "Technology"), ("贸易", "Trading"), ("电子", "Electronics"), ("机械", "Machinery"),
    ("化工", "Chemicals"), ("医药", "Pharmaceutical"), ("食品", "Foods"), ("物流", "Logistics"),
    ("建材", "Building Materials"), ("纺织", "Textiles"), ("软件", "Software"), ("汽车配件", "Auto Parts"),
    ("环保", "Environmental"), ("教育", "Education"), ("咨询", "Consulting"), ("能源", "Energy"),
    ("家具", "Furniture"), ("印刷", "Printing"), ("包装", "Packaging"), ("网络", "Network"),
]

SUFFIXES_CN = ["有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "实业有限公司"]
SUFFIXES_EN = ["Co., Ltd.", "Co., Ltd.", "Ltd.", "Group", "Inc.", "Corporation", "LLC"]

SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("高", "gao"), ("林", "lin"),
    ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
]
GIVEN_NAMES = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂英", "guiying"),
    ("建华", "jianhua"), ("志强", "zhiqiang"), ("晓东", "xiaodong"), ("海燕", "haiyan"), ("文博", "wenbo"),
    ("子涵", "zihan"), ("雨桐", "yutong"), ("浩然", "haoran"), ("思远", "siyuan"),
]
FIRST_NAMES_EN = ["John", "Mary", "David", "Linda", "Michael", "Sarah", "James", "Emma", "Robert", "Anna",
                  "William", "Grace", "Peter", "Lucy", "Thomas", "Olivia"]
LAST_NAMES_EN = ["Smith", "Johnson", "Brown", "Taylor", "Lee", "Wilson", "Chen", "Wang", "Miller", "Davis",
                 "Clark", "Walker", "Young", "King"]

TITLES = ["总经理", "采购经理", "财务总监", "技术主管", "销售总监", "行政主管", "副总经理", "项目经理",
          "Purchasing Manager", "CEO", "CTO", "Office Manager"]

ROADS = ["人民路", "中山路", "解放路", "建设路", "南京路", "长江路", "黄河路", "和平路", "新华路", "科技园路",
         "世纪大道", "滨江大道", "学院路", "工业园路"]

MAIL_DOMAINS = ["163.com", "qq.com", "126.com", "sina.com", "gmail.com", "outlook.com", "foxmail.com"]

PRODUCTS = ["服务器", "办公软件", "原材料", "设备维护", "年度服务合同", "云存储", "工业传感器", "包装材料",
            "ERP 实施", "培训课程"]
ATTITUDES = ["有兴趣，要求发送报价", "需要内部讨论", "预算不足，下季度再联系", "已发报价，等待回复",
             "对价格有异议", "要求上门演示", "决策人出差，下周再约", "已确认需求，准备签约"]
FOLLOW_UP_TEMPLATES = [
    "电话沟通{product}需求，客户{attitude}。",
    "拜访客户，介绍{product}方案，客户{attitude}。",
    "微信联系，跟进{product}报价，客户{attitude}。",
    "Call about {product_en}: customer {attitude_en}.",
]
PRODUCTS_EN = ["servers", "office software", "raw materials", "maintenance", "cloud storage", "sensors"]
ATTITUDES_EN = ["is interested and wants a quote", "needs time to decide", "has no budget this quarter",
                "asked for an on-site demo", "is ready to sign"]

# Department tree: (key, name, parent key). Sales departments have sub-teams.
DEPARTMENTS = [
    ("hq", "总公司 HQ", None),
    ("east", "华东销售部 East", "hq"), ("east1", "华东一组 East-1", "east"), ("east2", "华东二组 East-2", "east"),
    ("south", "华南销售部 South", "hq"), ("south1", "华南一组 South-1", "south"),
    ("south2", "华南二组 South-2", "south"),
    ("north", "华北销售部 North", "hq"), ("north1", "华北一组 North-1", "north"),
    ("west", "西部销售部 West", "hq"), ("west1", "西部一组 West-1", "west"),
    ("key", "大客户部 Key Accounts", "hq"),
    ("intl", "海外业务部 International", "hq"), ("intl1", "海外一组 Intl-1", "intl"),
    ("it", "信息部 IT", "hq"), ("service", "客服部 Service", "hq"), ("purchasing", "采购部 Purchasing", "hq"),
]
SALES_DEPARTMENTS = ["east", "south", "north", "west", "key", "intl"]
# Where the 40 salespeople sit (repeated keys = several reps); rep01 (the busiest) is in East-1.
REP_TEAMS = (["east1"] * 5 + ["east2"] * 4 + ["east"] * 2 + ["south1"] * 4 + ["south2"] * 4 + ["south"] * 1
             + ["north1"] * 5 + ["north"] * 2 + ["west1"] * 4 + ["west"] * 1 + ["key"] * 4 + ["intl1"] * 3
             + ["intl"] * 1)
