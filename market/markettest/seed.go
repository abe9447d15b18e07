package markettest

import (
	_ "embed"
	"fmt"
	"strings"
	"time"
)

// photo is the content of every photo in the seeded chats, a small JPEG, and receipt that of
// every PDF, so that downloading an attachment gives a real file.
var (
	//go:embed photo.jpg
	photo []byte
	//go:embed receipt.pdf
	receipt []byte
)

// The seller's stores: one ships its own orders (FBS), one sells from Market's warehouse (FBY).
const (
	campaignFBS int64 = 21870345
	campaignFBY int64 = 21870398
)

// seed fills st with the chats of a small home-appliance shop, in Russian as its buyers write,
// from 20 to 24 November 2026. Everything is built here rather than in package variables, so
// that a program that imports the package pays for it only when a server is first used.
func seed(st *store, shift int64) {
	st.lastChatID, st.lastMessageID = 4821000+shift, 90311000+shift
	sd := seeder{st, shift}

	anna := sd.order(53817204615, campaignFBS, "Анна С.", "a7k2m9x4q1v8t3r6")
	dmitry := sd.order(53817388120, campaignFBS, "Дмитрий Козлов", "d3m8r1k5z9w2p7x4")
	ekaterina := sd.order(53818011742, campaignFBY, "Екатерина", "e9t4c2n7v1b6q3m8")
	igor := sd.order(53818452203, campaignFBS, "Игорь П.", "i5g8p2r6t9w3k1z7")
	marina := sd.order(53819120557, campaignFBY, "Марина Волкова", "m2v7l4k9x1q5r8w3")
	sergey := sd.order(53819377031, campaignFBS, "Сергей Н.", "s6n1g9e4r7y2k5b8")
	olga := sd.order(53820045118, campaignFBY, "Ольга", "o4l8g1a6z3m9t2c7")
	alexey := sd.order(53820210964, campaignFBS, "Алексей Морозов", "a1m5r9z3k7w2x6q4")
	natalia := sd.order(53821008432, campaignFBS, "Наталья К.", "n8k3t6l1a9v4r2m7")
	pavel := sd.order(53816507789, campaignFBY, "Павел", "p2v6l9k4r8t1m5q3")
	yulia := sd.order(53815990214, campaignFBY, "Юлия Орлова", "y7o2r5l9v3k8m1t6")
	viktor := sd.order(53817702348, campaignFBS, "Виктор Семёнов", "v3s8m1n6k4r9t2q5")
	// Orders and a return with no chat yet, for createChat.
	sd.order(53822301177, campaignFBS, "Татьяна Ф.", "t9f4k7m2r5v1q8z3")
	sd.order(53822459920, campaignFBY, "Роман Б.", "r1b6m3k8t4v9q2z7")
	sd.order(53822517306, campaignFBS, "Елена М.", "e2m7k4r9t1v6q3z8")
	grigory := sd.order(53814400291, campaignFBY, "Григорий", "g5r2k9m6t3v8q1z4")
	sd.ret(8841812, grigory)

	sd.chat(orderContext(anna), ChatTypeChat, StatusWaitingForPartner, at(22, 9, 14),
		say(at(22, 9, 14), SenderMarket, fmt.Sprintf("Покупатель начал чат по заказу № %d. Ответьте в течение 24 часов.", anna.ID)),
		say(at(22, 9, 15), SenderCustomer, "Здравствуйте! Заказала робот-пылесос 20 ноября, обещали отгрузить вчера, а статус до сих пор «Готовится к отправке». Когда ждать?"),
	)
	sd.chat(orderContext(dmitry), ChatTypeChat, StatusWaitingForPartner, at(23, 18, 40),
		say(at(23, 18, 40), SenderCustomer, "Добрый вечер. Чайник пришёл с вмятиной на корпусе, коробка тоже помята. Фото прикладываю.",
			"вмятина_корпус.jpg", "коробка.jpg"),
		say(at(23, 19, 2), SenderPartner, "Здравствуйте, Дмитрий! Очень жаль, что так вышло. Подскажите, чайник включается и не протекает?"),
		say(at(23, 19, 10), SenderCustomer, "Включается, но крышка закрывается не до конца. Хочу замену, а не возврат денег."),
	)
	sd.chat(orderContext(ekaterina), ChatTypeChat, StatusWaitingForPartner, at(24, 10, 5),
		say(at(24, 10, 5), SenderCustomer, "Здравствуйте, заказывала блендер белого цвета, а пришёл чёрный. Можно обменять?", "блендер.jpg"),
	)
	sd.chat(orderContext(igor), ChatTypeChat, StatusWaitingForCustomer, at(21, 12, 30),
		say(at(21, 12, 30), SenderCustomer, "Мультиварка перестала включаться после второго использования. Что делать?"),
		say(at(21, 13, 5), SenderPartner, "Игорь, здравствуйте! Пришлите, пожалуйста, фото наклейки с серийным номером на дне — оформим гарантийный случай. Где её найти, показали на схеме.",
			"где_серийный_номер.jpg"),
	)
	sd.chat(orderContext(marina), ChatTypeChat, StatusNew, at(24, 11, 20))
	sd.chat(orderContext(sergey), ChatTypeArbitrage, StatusWaitingForArbiter, at(20, 15, 0),
		say(at(20, 15, 0), SenderMarket, fmt.Sprintf("Покупатель открыл спор по заказу № %d: «В посылке не хватает товара».", sergey.ID)),
		say(at(20, 15, 3), SenderCustomer, "В коробке не было двух сменных фильтров, которые указаны в комплектации пылесоса.", "комплектация.jpg"),
		say(at(20, 16, 40), SenderPartner, "Заказ собирали по чек-листу, фильтры были вложены. Прикладываем фото упаковки перед отправкой.", "упаковка_склад.jpg"),
		say(at(21, 10, 15), SenderSupport, "Здравствуйте! Я специалист поддержки Маркета и разбираюсь в споре. Запросили видео упаковки со склада, вернусь с решением до 25 ноября."),
	)
	sd.chat(orderContext(olga), ChatTypeChat, StatusFinished, at(20, 10, 0),
		say(at(20, 10, 0), SenderCustomer, "Утюг пришёл, спасибо! Подскажите, как включить режим самоочистки?"),
		say(at(20, 10, 12), SenderPartner, "Ольга, добрый день! Нагрейте утюг, держите его над раковиной и зажмите кнопку пара на 3 секунды. Подробно — на стр. 12 инструкции."),
		say(at(20, 10, 30), SenderCustomer, "Получилось, спасибо большое!"),
		say(at(20, 10, 31), SenderMarket, "Чат завершён. Покупатель может оценить ответ магазина."),
	)
	sd.chat(orderContext(alexey), ChatTypeChat, StatusWaitingForCustomer, at(21, 9, 0), longHistory(alexey)...)
	sd.chat(orderContext(natalia), ChatTypeChat, StatusWaitingForPartner, at(22, 14, 0),
		say(at(22, 14, 0), SenderMarket, "Курьер не смог связаться с покупателем. Доставка перенесена на 24 ноября."),
		say(at(22, 14, 7), SenderCustomer, "Мне никто не звонил! Можно доставить сегодня после 18:00?"),
		say(at(22, 14, 30), SenderSupport, "Наталья, здравствуйте! Передали вашу просьбу магазину, он ответит в этом чате."),
	)

	pavelReturn := sd.ret(8841203, pavel)
	sd.chat(returnContext(pavelReturn, pavel), ChatTypeChat, StatusWaitingForPartner, at(21, 16, 45),
		say(at(21, 16, 45), SenderMarket, fmt.Sprintf("Покупатель оформил возврат № %d: «Товар не подошёл».", pavelReturn.ID)),
		say(at(21, 16, 52), SenderCustomer, "Здравствуйте! Отправил фен обратно 19 ноября, вот фото чека и упаковки. Когда вернутся деньги?",
			"чек_отправки.pdf", "упаковка.jpg"),
	)
	sd.chat(returnContext(sd.ret(8841377, yulia), yulia), ChatTypeChat, StatusWaitingForMarket, at(20, 13, 10),
		say(at(20, 13, 10), SenderCustomer, "Вернула кофемолку неделю назад, но деньги так и не пришли."),
		say(at(20, 13, 45), SenderPartner, "Юлия, здравствуйте! Возврат мы получили 18 ноября, деньги перечисляет Маркет. Передали вопрос в поддержку."),
		say(at(20, 17, 20), SenderSupport, "Проверяем статус выплаты, ответим в течение двух рабочих дней."),
	)
	sd.chat(returnContext(sd.ret(8841590, viktor), viktor), ChatTypeChat, StatusWaitingForCustomer, at(23, 9, 30),
		say(at(23, 9, 30), SenderCustomer, "Обогреватель сильно шумит на втором режиме, хочу вернуть."),
		say(at(23, 10, 15), SenderPartner, "Виктор, здравствуйте! Возврат одобрили. Упакуйте обогреватель в оригинальную коробку и сдайте в любой пункт выдачи до 30 ноября."),
	)

	sd.chat(directContext("Ирина Л.", "i3l8k5m2r9t6v1q4"), ChatTypeChat, StatusWaitingForPartner, at(24, 8, 50),
		say(at(24, 8, 50), SenderCustomer, "Здравствуйте! Подойдут ли ваши сменные HEPA-фильтры к роботу-пылесосу R5, купленному в прошлом году?"),
	)
	sd.chat(directContext("Константин", "k6n1t8m3r5v9q2z4"), ChatTypeChat, StatusWaitingForPartner, at(23, 21, 15),
		say(at(23, 21, 15), SenderCustomer, "Будет ли электрогриль в чёрном цвете? Сейчас в наличии только серебристый."),
	)
	sd.chat(directContext("Светлана", "s4v9t2m7k1r6q3z8"), ChatTypeChat, StatusFinished, at(20, 17, 0),
		say(at(20, 17, 0), SenderCustomer, "Какой объём чаши у мультиварки MC-50?"),
		say(at(20, 17, 25), SenderPartner, "Светлана, здравствуйте! Объём чаши — 5 литров, полезный объём — 4 литра."),
		say(at(20, 17, 40), SenderCustomer, "Спасибо, заказываю."),
	)
}

// longHistory is a chat of 127 messages, more than one page of getChatHistory can hold.
func longHistory(order Order) []seedMessage {
	customer := []string{
		"Попытка %d: сделал капучино по вашей инструкции — пена снова жидкая и быстро оседает.",
		"Попытка %d: промыл капучинатор и трубку, собрал заново. Пар идёт, но молоко почти не взбивается.",
		"Попытка %d: взял молоко 3,2%% прямо из холодильника — стало чуть лучше, но всё равно не то.",
		"Попытка %d: выставил пар на максимум, машина шумит сильнее, а пены больше не стало.",
	}
	partner := []string{
		"Спасибо за подробности! Проверьте, пожалуйста, что резиновое кольцо на трубке капучинатора сидит плотно, без перекоса.",
		"Понимаем. Опустите трубку почти до дна кувшина и медленно поднимайте её по мере вспенивания.",
		"Хорошо. Перед вспениванием выпустите пар вхолостую на 2–3 секунды, чтобы ушёл конденсат.",
		"Подскажите, какой индикатор горит на панели во время подачи пара — зелёный или оранжевый?",
	}
	msgs := make([]seedMessage, 0, 127)
	msgs = append(msgs, say(at(21, 9, 0), SenderMarket, fmt.Sprintf("Покупатель начал чат по заказу № %d. Ответьте в течение 24 часов.", order.ID)))
	t := at(21, 9, 4)
	for i := range 63 {
		msgs = append(msgs,
			say(t, SenderCustomer, fmt.Sprintf(customer[i%len(customer)], i+1)),
			say(t.Add(3*time.Minute), SenderPartner, partner[i%len(partner)]))
		t = t.Add(7 * time.Minute)
	}
	return msgs
}

func at(day, hour, minute int) time.Time {
	return time.Date(2026, time.November, day, hour, minute, 0, 0, moscow)
}

type seedMessage struct {
	at     time.Time
	sender Sender
	text   string
	files  []string // names of attached files: photos, or PDFs by their extension
}

func say(at time.Time, sender Sender, text string, files ...string) seedMessage {
	return seedMessage{at: at, sender: sender, text: text, files: files}
}

// seeder adds the seed to a store that nothing else reaches until it is done (see Server.data),
// so it takes no lock.
type seeder struct {
	st    *store
	shift int64 // added to every id, so that the seeds of several businesses do not share one
}

func (sd seeder) order(id, campaignID int64, name, publicID string) Order {
	id += sd.shift
	o := Order{ID: id, CampaignID: campaignID, Customer: Customer{Name: name, PublicID: publicID}}
	sd.st.orders[id] = o
	return o
}

func (sd seeder) ret(id int64, o Order) Return {
	r := Return{ID: id + sd.shift, OrderID: o.ID}
	sd.st.returns[id] = r
	return r
}

func (sd seeder) chat(ctx Context, typ ChatType, status ChatStatus, created time.Time, msgs ...seedMessage) {
	c := sd.st.putChat(Chat{Context: ctx, Type: typ, Status: status, CreatedAt: created})
	rec := sd.st.chats[c.ChatID]
	for _, m := range msgs {
		var payload []Attachment
		for _, name := range m.files {
			payload = append(payload, sd.st.putFile(seedFile(name)))
		}
		sd.st.putMessage(rec, Message{CreatedAt: m.at, Sender: m.sender, Message: m.text, Payload: payload})
	}
}

func directContext(name, publicID string) Context {
	return Context{Type: ContextDirect, Customer: Customer{Name: name, PublicID: publicID}}
}

// seedFile is a seeded file of the given name: a PDF or a photo.
func seedFile(name string) upload {
	if strings.HasSuffix(name, ".pdf") {
		return upload{name: name, contentType: "application/pdf", data: receipt}
	}
	return upload{name: name, contentType: "image/jpeg", data: photo}
}
