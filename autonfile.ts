// autonfile.ts — the AUTON pipeline (see README.md and specs/).
import { config } from 'auton'
import { dataset, tokenizer, tokens } from './rules/slm.js'

const corpus = dataset()
const tok = tokenizer(corpus, 1024)
tokens(corpus, tok)
