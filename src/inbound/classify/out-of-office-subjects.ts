/** Colon (ASCII or full-width) or the end of the subject after a phrase. */
const COLON_OR_END = String.raw`\s*(?:[:：]|$)`;

/** End of a phrase that may run on into more text. `\b` is not used because it matches only at ASCII word characters. */
const PHRASE_END = String.raw`(?=[\s:：,.!;()-]|$)`;

function prefix(phrase: string): RegExp {
  return new RegExp(`^(?:${phrase})${COLON_OR_END}`, 'iu');
}

function phrase(words: string): RegExp {
  return new RegExp(`^(?:${words})${PHRASE_END}`, 'iu');
}

/**
 * Out-of-office and autoresponder subjects, matched at the start of the subject. Short
 * phrases that a customer might also start a subject with ("Automatic reply not working",
 * "Absence de réponse", meaning "no answer") must be followed by a colon or end the subject.
 * A leading "Re:" or "Fwd:" is not skipped: a person forwarding an out-of-office notice
 * still opens a task.
 *
 * NOTE: the non-English phrases are the usual translations of "Automatic reply" and
 * "Out of office" used as subject prefixes by Outlook and webmail autoresponders. No real
 * sample of each language was available to check them against.
 */
const OUT_OF_OFFICE_SUBJECTS: ReadonlyArray<readonly [label: string, pattern: RegExp]> = [
  // English
  ['out of office', prefix(String.raw`out of (?:the )?office(?: auto[- ]?reply| reply| notice| message| notification)?`)],
  ['out of office', phrase(String.raw`out of (?:the )?office (?:until|till|from|through)`)],
  ['out of office', phrase(String.raw`i(?:'m| am|’m) (?:currently )?out of (?:the )?office`)],
  ['automatic reply', prefix(String.raw`automatic (?:reply|response)`)],
  ['auto-reply', prefix(String.raw`auto[- ]?(?:reply|response)`)],
  ['vacation', prefix(String.raw`(?:on )?vacation(?: auto[- ]?reply| reply| response| notice| message)?`)],
  // German
  ['abwesenheitsnotiz', /^(?:automatische )?abwesenheits(?:notiz|nachricht|meldung)/iu],
  ['automatische antwort', prefix('automatische antwort')],
  ['abwesend', prefix('abwesend')],
  // French
  ['réponse automatique', prefix('r[ée]ponse automatique')],
  ['absence', /^absence\s*[:：]/iu],
  ['absence du bureau', phrase('absen(?:ce|te?) du bureau')],
  ["message d'absence", phrase("(?:message|notification|avis) d['’]absence")],
  // Spanish
  ['respuesta automática', prefix('respuesta autom[áa]tica')],
  ['fuera de la oficina', phrase('fuera de (?:la )?oficina')],
  // Italian
  ['risposta automatica', prefix('risposta automatica')],
  ['fuori ufficio', phrase("fuori (?:dall['’])?ufficio")],
  // Dutch
  ['automatisch antwoord', prefix('automatisch antwoord')],
  ['afwezig', prefix('afwezig(?:heidsbericht|heidsmelding)?')],
  // Portuguese
  ['resposta automática', prefix('resposta autom[áa]tica')],
  ['fora do escritório', phrase('fora do escrit[óo]rio')],
  // Russian
  ['автоматический ответ', prefix('автоматический ответ|автоответ')],
  // Swedish, Norwegian, Danish, Finnish
  ['autosvar', prefix('autosvar|automatisk svar')],
  ['automaattinen vastaus', prefix('automaattinen vastaus')],
  // Polish, Czech, Hungarian, Turkish
  ['automatyczna odpowiedź', prefix('automatyczna odpowied[źz]')],
  ['automatická odpověď', prefix('automatick[áa] odpov[ěe]d[ďd]')],
  ['automatikus válasz', prefix('automatikus v[áa]lasz')],
  ['otomatik yanıt', prefix('otomatik (?:yan[ıi]t|cevap)')],
  // Japanese, Chinese, Korean
  ['自動応答', prefix('自動(?:応答|返信)')],
  ['自动回复', prefix('自动回复|自動回覆|自動回復')],
  ['자동 회신', prefix(String.raw`자동\s?(?:회신|응답)`)],
];

/** Returns the label of the out-of-office phrase that starts the subject, or undefined. */
export function findOutOfOfficeSubject(subject: string): string | undefined {
  return OUT_OF_OFFICE_SUBJECTS.find(([, pattern]) => pattern.test(subject))?.[0];
}
