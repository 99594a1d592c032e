/**
 * Small curated lexicons whose hits become marker features. With little bio-chem data, a linear model otherwise
 * latches onto request phrasing ("step-by-step instructions to…") instead of the agent named; one shared marker per
 * lexicon lets every agent borrow the evidence learned from the others. The model still learns the marker's weight.
 */
export const BIOCHEM_AGENTS =
  /\b(sarin|vx|tabun|soman|cyclosarin|novichok|mustard gas|sulfur mustard|lewisite|phosgene|chlorine gas|hydrogen cyanide|ricin|abrin|anthrax|anthracis|botulinum|botulism|smallpox|variola|yersinia|pestis|plague|ebola|marburg|h5n1|tularemia|francisella|nipah|tetrodotoxin|saxitoxin|nerve (agent|gas)|bio-?weapons?|biological (weapon|agent|warfare)s?|chemical (weapon|agent|warfare)s?|select agents?|pathogens?|weaponi[sz]\w*|aerosoli[sz]\w*|gain[- ]of[- ]function|dirty bomb|radiological|outbreaks?|epidemics?|pandemics?|transmissib\w*|virulen\w*|lethality|synthesis screening|gene fragments?|dna synthesis)\b/i;
export const CYBER_OFFENSE =
  /\b(ransomware|keylogg\w*|trojan|rootkit|botnet|spyware|stealer|backdoor|reverse shell|shellcode|exploit\w*|payload|phishing|brute[- ]?forc\w*|ddos|privilege escalation|lateral movement|exfiltrat\w*|c2|command[- ]and[- ]control|evade|evasion|bypass\w*|undetect\w*|antivirus|edr|credential\w*|hack\w*|crack\w*|zero[- ]day|malware|worm|persistence)\b/i;
export const HARM_INTENT =
  /\b(victims?|without (them|him|her|anyone) knowing|without (permission|consent|authori[sz]ation)|not mine|kill|infect|mass casualt\w*|crowded|civilians?|undetected|without (getting|being) caught|target(ed)? (company|people|machines?))\b/i;
