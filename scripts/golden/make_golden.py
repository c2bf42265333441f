#!/usr/bin/env python3
"""Golden fixtures for test/unit/nn/golden-torch.test.ts: tiny seeded models run by plain PyTorch.

The forwards below re-implement Hugging Face transformers' LlamaForCausalLM, Qwen2ForCausalLM and
GPT2LMHeadModel (transformers ~4.40) line for line in plain torch (the transformers library is not needed):
  llama/qwen2: RMSNorm (eps inside the sqrt, weight · x̂), RoPE with rotate_half (pairs (i, i + hd/2)),
               theta from config, repeat_kv for grouped-query heads (query head h reads kv head h // n_rep),
               softmax(q·kᵀ/√hd) in f32, MLP down(silu(gate(x)) · up(x)); qwen2 adds q/k/v biases and ties
               the LM head to the embedding.
  gpt2:        wte + wpe, LayerNorm, fused c_attn Conv1D (x·W + b, W stored (in, out)), scaled attention,
               MLP c_proj(gelu_new(c_fc(x))) with the tanh GELU, ln_f, LM head tied to wte.
  loss:        mean cross-entropy of logits[:, :-1] against labels[:, 1:], labels == -100 ignored.
Outputs under test/fixtures/golden/ (committed, so CI needs no Python):
  llama/  config.json + model.safetensors (F32, HF names), the layout core/nn/checkpoint.ts loads
  qwen2/  config.json + model.safetensors (BF16, HF names; the reference runs on the BF16-rounded weights)
  gpt2/   config.json (HF GPT2Config fields) + model.safetensors (F32) in the lab's own parameter names: the
          lab has no GPT-2 loader, so this script splits c_attn into q/k/v and transposes the Conv1D weights
  */expected.safetensors: tokens, labels (I32); logits, loss and gradients of the loss for a few named
          weights from a float32 run (suffix .f32) and a float64 run on the same weights (suffix .f64);
          alt.<convention>: float32 logits of the same weights under a wrong convention, so the test can
          show its tolerance separates the right convention from the wrong one.
Deliberate differences from HF, only in the float64 run (HF would silently drop to float32 there): RMSNorm
and the RoPE tables stay in the model's dtype instead of being forced to float32.
Run: /usr/bin/python3 scripts/golden/make_golden.py   (torch 1.13 from Debian; takes a few seconds)
"""

import json
import math
import os
import struct

import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'golden')
B, T = 2, 11

DTYPES = {
    torch.float32: 'F32',
    torch.float64: 'F64',
    torch.bfloat16: 'BF16',
    torch.float16: 'F16',
    torch.int32: 'I32',
    torch.int64: 'I64',
}


def write_safetensors(path, tensors, metadata=None):
    """The safetensors format: u64 header length, JSON header (space-padded to 8 bytes), raw LE tensors."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


# ---------------------------------------------------------------- LLaMA / Qwen2 (HF modeling_llama / modeling_qwen2)


def rms_norm(x, w, eps, outside=False):
    # HF: hidden_states.to(float32); x * rsqrt(mean(x²) + eps); weight * x.to(input_dtype)
    h = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    var = h.pow(2).mean(-1, keepdim=True)
    h = h / (var.sqrt() + eps) if outside else h * torch.rsqrt(var + eps)
    return w * h.to(x.dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def rope_cos_sin(hd, theta, dtype):
    # HF LlamaRotaryEmbedding: inv_freq = 1/base^(arange(0, dim, 2)/dim), freqs = pos ⊗ inv_freq, emb = [freqs, freqs]
    ct = torch.float64 if dtype == torch.float64 else torch.float32
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).to(ct) / hd))
    pos = torch.arange(T, dtype=ct)
    freqs = pos[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def apply_rope(x, cos, sin, interleaved=False):
    if not interleaved:
        return x * cos + rotate_half(x) * sin
    # the wrong convention (GPT-J / Meta's original complex form): pairs (2i, 2i+1) share angle i
    x1, x2 = x[..., 0::2], x[..., 1::2]
    c, s = cos[..., : x.shape[-1] // 2], sin[..., : x.shape[-1] // 2]
    out = torch.stack((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1)
    return out.flatten(-2)


def repeat_kv(x, n_rep, modulo=False):
    b, nkv, t, hd = x.shape
    if n_rep == 1:
        return x
    if modulo:  # the wrong grouping: query head h reads kv head h % nkv
        return x.repeat(1, n_rep, 1, 1)
    return x[:, :, None, :, :].expand(b, nkv, n_rep, t, hd).reshape(b, nkv * n_rep, t, hd)


def linear(x, w, b=None):
    y = x @ w.t()
    return y + b if b is not None else y


def llama_forward(P, cfg, ids, alt=None):
    C = cfg['hidden_size']
    NH = cfg['num_attention_heads']
    NKV = cfg['num_key_value_heads']
    hd = C // NH
    eps = cfg['rms_norm_eps']
    theta = 10000.0 if alt == 'rope_theta_default' else cfg['rope_theta']
    dt = P['model.embed_tokens.weight'].dtype
    cos, sin = rope_cos_sin(hd, theta, dt)
    outside = alt == 'norm_eps_outside_sqrt'
    bias = lambda n: P.get(n)  # noqa: E731
    x = P['model.embed_tokens.weight'][ids]
    b, t = ids.shape
    causal = torch.ones(t, t, dtype=torch.bool).tril()
    for l in range(cfg['num_hidden_layers']):
        p = f'model.layers.{l}.'
        h = rms_norm(x, P[p + 'input_layernorm.weight'], eps, outside)
        q = linear(h, P[p + 'self_attn.q_proj.weight'], bias(p + 'self_attn.q_proj.bias'))
        k = linear(h, P[p + 'self_attn.k_proj.weight'], bias(p + 'self_attn.k_proj.bias'))
        v = linear(h, P[p + 'self_attn.v_proj.weight'], bias(p + 'self_attn.v_proj.bias'))
        q = q.view(b, t, NH, hd).transpose(1, 2)
        k = k.view(b, t, NKV, hd).transpose(1, 2)
        v = v.view(b, t, NKV, hd).transpose(1, 2)
        q = apply_rope(q, cos, sin, alt == 'rope_interleaved')
        k = apply_rope(k, cos, sin, alt == 'rope_interleaved')
        k = repeat_kv(k, NH // NKV, alt == 'gqa_modulo')
        v = repeat_kv(v, NH // NKV, alt == 'gqa_modulo')
        scale = 1.0 / hd if alt == 'attn_scale_1_over_hd' else 1.0 / math.sqrt(hd)
        s = (q @ k.transpose(2, 3)) * scale
        s = s.masked_fill(~causal, torch.finfo(s.dtype).min)
        a = torch.softmax(s, dim=-1, dtype=torch.float32 if dt != torch.float64 else torch.float64).to(dt)
        y = (a @ v).transpose(1, 2).reshape(b, t, C)
        x = x + linear(y, P[p + 'self_attn.o_proj.weight'], bias(p + 'self_attn.o_proj.bias'))
        h = rms_norm(x, P[p + 'post_attention_layernorm.weight'], eps, outside)
        g = linear(h, P[p + 'mlp.gate_proj.weight'])
        u = linear(h, P[p + 'mlp.up_proj.weight'])
        if alt == 'mlp_gate_up_swapped':
            g, u = u, g
        x = x + linear(torch.nn.functional.silu(g) * u, P[p + 'mlp.down_proj.weight'])
    x = rms_norm(x, P['model.norm.weight'], eps, outside)
    head = P['model.embed_tokens.weight'] if cfg['tie_word_embeddings'] else P['lm_head.weight']
    return linear(x, head)


# ---------------------------------------------------------------- GPT-2 (HF modeling_gpt2), HF parameter layout


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def conv1d(x, w, b):
    # HF Conv1D: weight stored (nx, nf); out = addmm(b, x, W)
    return x @ w + b


def gpt2_forward(H, cfg, ids, alt=None):
    C = cfg['n_embd']
    NH = cfg['n_head']
    hd = C // NH
    eps = cfg['layer_norm_epsilon']
    b, t = ids.shape
    act = (lambda z: torch.nn.functional.gelu(z)) if alt == 'gelu_erf' else gelu_new
    ln = lambda z, n: torch.nn.functional.layer_norm(z, (C,), H[n + '.weight'], H[n + '.bias'], eps)  # noqa: E731
    x = H['transformer.wte.weight'][ids] + H['transformer.wpe.weight'][torch.arange(t)][None]
    causal = torch.ones(t, t, dtype=torch.bool).tril()
    for l in range(cfg['n_layer']):
        p = f'transformer.h.{l}.'
        h = ln(x, p + 'ln_1')
        qkv = conv1d(h, H[p + 'attn.c_attn.weight'], H[p + 'attn.c_attn.bias'])
        q, k, v = qkv.split(C, dim=2)
        q, k, v = (z.view(b, t, NH, hd).permute(0, 2, 1, 3) for z in (q, k, v))
        w = q @ k.transpose(-1, -2)
        w = w / torch.full([], v.size(-1) ** 0.5, dtype=w.dtype)
        if alt == 'scale_attn_by_inverse_layer_idx':
            w = w / float(l + 1)
        w = torch.where(causal, w, torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype))
        y = (torch.softmax(w, dim=-1) @ v).permute(0, 2, 1, 3).reshape(b, t, C)
        x = x + conv1d(y, H[p + 'attn.c_proj.weight'], H[p + 'attn.c_proj.bias'])
        h = ln(x, p + 'ln_2')
        x = x + conv1d(act(conv1d(h, H[p + 'mlp.c_fc.weight'], H[p + 'mlp.c_fc.bias'])), H[p + 'mlp.c_proj.weight'], H[p + 'mlp.c_proj.bias'])
    x = ln(x, 'transformer.ln_f')
    return x @ H['transformer.wte.weight'].t()


def gpt2_to_lab(H, cfg):
    """HF GPT-2 tensors → the lab's gpt2-flavour names (q/k/v split out of c_attn, Conv1D weights transposed)."""
    C = cfg['n_embd']
    out = {'model.embed_tokens.weight': H['transformer.wte.weight'], 'model.embed_positions.weight': H['transformer.wpe.weight']}
    for l in range(cfg['n_layer']):
        p, q = f'transformer.h.{l}.', f'model.layers.{l}.'
        out[q + 'input_layernorm.weight'] = H[p + 'ln_1.weight']
        out[q + 'input_layernorm.bias'] = H[p + 'ln_1.bias']
        for i, n in enumerate('qkv'):
            out[q + f'self_attn.{n}_proj.weight'] = H[p + 'attn.c_attn.weight'][:, i * C : (i + 1) * C].t()
            out[q + f'self_attn.{n}_proj.bias'] = H[p + 'attn.c_attn.bias'][i * C : (i + 1) * C]
        out[q + 'self_attn.o_proj.weight'] = H[p + 'attn.c_proj.weight'].t()
        out[q + 'self_attn.o_proj.bias'] = H[p + 'attn.c_proj.bias']
        out[q + 'post_attention_layernorm.weight'] = H[p + 'ln_2.weight']
        out[q + 'post_attention_layernorm.bias'] = H[p + 'ln_2.bias']
        out[q + 'mlp.up_proj.weight'] = H[p + 'mlp.c_fc.weight'].t()
        out[q + 'mlp.up_proj.bias'] = H[p + 'mlp.c_fc.bias']
        out[q + 'mlp.down_proj.weight'] = H[p + 'mlp.c_proj.weight'].t()
        out[q + 'mlp.down_proj.bias'] = H[p + 'mlp.c_proj.bias']
    out['model.norm.weight'] = H['transformer.ln_f.weight']
    out['model.norm.bias'] = H['transformer.ln_f.bias']
    return {k: v.contiguous() for k, v in out.items()}


# ---------------------------------------------------------------- weights, loss, gradients


def causal_lm_loss(logits, labels):
    # HF: shift so that tokens < n predict n; CrossEntropyLoss(mean) ignores -100
    shift_logits = logits[..., :-1, :].float() if logits.dtype != torch.float64 else logits[..., :-1, :]
    shift_labels = labels[..., 1:]
    return torch.nn.functional.cross_entropy(shift_logits.reshape(-1, shift_logits.shape[-1]), shift_labels.reshape(-1), ignore_index=-100)


def randn(g, *shape, std=1.0):
    return torch.randn(*shape, generator=g, dtype=torch.float32) * std


def embedding_table(g, V, C):
    # row scales spread over [0.003, 1] so the RMSNorm eps (1e-5) is felt by small rows and not by large ones
    scale = torch.exp(torch.rand(V, 1, generator=g) * (math.log(1.0) - math.log(0.003)) + math.log(0.003))
    return randn(g, V, C) * scale


def llama_weights(g, cfg, biases):
    C, F, V = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
    NH, NKV = cfg['num_attention_heads'], cfg['num_key_value_heads']
    hd = C // NH
    P = {'model.embed_tokens.weight': embedding_table(g, V, C)}
    s = 1.0 / math.sqrt(C)  # unit-scale projections: attention scores O(1), so RoPE and grouping are felt
    for l in range(cfg['num_hidden_layers']):
        p = f'model.layers.{l}.'
        P[p + 'input_layernorm.weight'] = 1.0 + randn(g, C, std=0.2)
        P[p + 'self_attn.q_proj.weight'] = randn(g, NH * hd, C, std=1.5 * s)
        P[p + 'self_attn.k_proj.weight'] = randn(g, NKV * hd, C, std=1.5 * s)
        P[p + 'self_attn.v_proj.weight'] = randn(g, NKV * hd, C, std=s)
        if biases:
            P[p + 'self_attn.q_proj.bias'] = randn(g, NH * hd, std=0.3)
            P[p + 'self_attn.k_proj.bias'] = randn(g, NKV * hd, std=0.3)
            P[p + 'self_attn.v_proj.bias'] = randn(g, NKV * hd, std=0.3)
        P[p + 'self_attn.o_proj.weight'] = randn(g, C, NH * hd, std=s)
        P[p + 'post_attention_layernorm.weight'] = 1.0 + randn(g, C, std=0.2)
        P[p + 'mlp.gate_proj.weight'] = randn(g, F, C, std=1.5 * s)
        P[p + 'mlp.up_proj.weight'] = randn(g, F, C, std=s)
        P[p + 'mlp.down_proj.weight'] = randn(g, C, F, std=1.0 / math.sqrt(F))
    P['model.norm.weight'] = 1.0 + randn(g, C, std=0.2)
    if not cfg['tie_word_embeddings']:
        P['lm_head.weight'] = randn(g, V, C, std=s)
    return P


def gpt2_weights(g, cfg):
    C, F, V, NP = cfg['n_embd'], cfg['n_inner'], cfg['vocab_size'], cfg['n_positions']
    s = 1.0 / math.sqrt(C)
    H = {'transformer.wte.weight': randn(g, V, C, std=0.5), 'transformer.wpe.weight': randn(g, NP, C, std=0.3)}
    for l in range(cfg['n_layer']):
        p = f'transformer.h.{l}.'
        H[p + 'ln_1.weight'] = 1.0 + randn(g, C, std=0.2)
        H[p + 'ln_1.bias'] = randn(g, C, std=0.1)
        H[p + 'attn.c_attn.weight'] = randn(g, C, 3 * C, std=1.5 * s)
        H[p + 'attn.c_attn.bias'] = randn(g, 3 * C, std=0.3)
        H[p + 'attn.c_proj.weight'] = randn(g, C, C, std=s)
        H[p + 'attn.c_proj.bias'] = randn(g, C, std=0.1)
        H[p + 'ln_2.weight'] = 1.0 + randn(g, C, std=0.2)
        H[p + 'ln_2.bias'] = randn(g, C, std=0.1)
        H[p + 'mlp.c_fc.weight'] = randn(g, C, F, std=1.5 * s)  # pre-activations O(1.5): tanh and erf GELU differ there
        H[p + 'mlp.c_fc.bias'] = randn(g, F, std=0.3)
        H[p + 'mlp.c_proj.weight'] = randn(g, F, C, std=1.0 / math.sqrt(F))
        H[p + 'mlp.c_proj.bias'] = randn(g, C, std=0.1)
    H['transformer.ln_f.weight'] = 1.0 + randn(g, C, std=0.2)
    H['transformer.ln_f.bias'] = randn(g, C, std=0.1)
    return H


def tokens_and_labels(g, V):
    ids = torch.randint(0, V, (B, T), generator=g)
    labels = ids.clone()
    labels[0, 4] = -100  # ignored targets: the mean must count only the rest
    labels[1, 7] = -100
    return ids, labels


def run(forward, params, cfg, ids, labels, dtype, grad_names, to_lab=None):
    """Logits, loss and ∂loss/∂(named lab parameters) in the given dtype."""
    P = {k: v.detach().to(dtype).requires_grad_(True) for k, v in params.items()}
    logits = forward(P, cfg, ids)
    loss = causal_lm_loss(logits, labels)
    loss.backward()
    grads = {k: v.grad for k, v in P.items()}
    if to_lab:
        grads = to_lab(grads, cfg)
    return logits.detach(), loss.detach(), {n: grads[n] for n in grad_names}


def build(name, cfg, params, forward, grad_names, alts, file_params, lab_params_of=None, note=''):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, 'config.json'), cfg)
    write_safetensors(os.path.join(d, 'model.safetensors'), file_params, {'format': 'pt'})
    g = torch.Generator().manual_seed(1234)
    ids, labels = tokens_and_labels(g, cfg['vocab_size'])
    E = {'tokens': ids.to(torch.int32), 'labels': labels.to(torch.int32)}
    for dt, sfx in ((torch.float32, 'f32'), (torch.float64, 'f64')):
        logits, loss, grads = run(forward, params, cfg, ids, labels, dt, grad_names, lab_params_of)
        E[f'logits.{sfx}'] = logits
        E[f'loss.{sfx}'] = loss.reshape(1)
        for n, gr in grads.items():
            E[f'grad.{sfx}.{n}'] = gr.contiguous()
    base = E['logits.f32']
    for a in alts:
        with torch.no_grad():
            E[f'alt.{a}'] = forward(params, cfg, ids, alt=a).float()
        print(f'  {name} alt {a}: max |Δlogit| vs golden = {(E[f"alt.{a}"] - base).abs().max().item():.3e}')
    print(f'  {name}: loss f32 {E["loss.f32"].item():.6f}  f64 {E["loss.f64"].item():.12f}  '
          f'max|f32−f64 logits| {(E["logits.f32"].double() - E["logits.f64"]).abs().max().item():.2e}')
    write_safetensors(os.path.join(d, 'expected.safetensors'), E, {'generator': 'scripts/golden/make_golden.py', 'torch': torch.__version__, 'note': note})


def main():
    torch.manual_seed(0)
    LLAMA_ALTS = ['rope_interleaved', 'rope_theta_default', 'gqa_modulo', 'norm_eps_outside_sqrt', 'mlp_gate_up_swapped', 'attn_scale_1_over_hd']

    llama_cfg = {
        'architectures': ['LlamaForCausalLM'],
        'model_type': 'llama',
        'vocab_size': 97,
        'hidden_size': 48,
        'intermediate_size': 96,
        'num_hidden_layers': 2,
        'num_attention_heads': 4,
        'num_key_value_heads': 2,
        'hidden_act': 'silu',
        'max_position_embeddings': 32,
        'rms_norm_eps': 1e-5,
        'rope_theta': 500000.0,
        'rope_scaling': None,
        'tie_word_embeddings': False,
        'attention_bias': False,
        'mlp_bias': False,
        'torch_dtype': 'float32',
    }
    P = llama_weights(torch.Generator().manual_seed(1), llama_cfg, biases=False)
    build('llama', llama_cfg, P, llama_forward,
          ['model.embed_tokens.weight', 'model.layers.0.input_layernorm.weight', 'model.layers.0.self_attn.q_proj.weight',
           'model.layers.0.self_attn.k_proj.weight', 'model.layers.0.self_attn.v_proj.weight', 'model.layers.1.self_attn.o_proj.weight',
           'model.layers.1.post_attention_layernorm.weight', 'model.norm.weight', 'lm_head.weight'],
          LLAMA_ALTS, P, note='LlamaForCausalLM, F32 weights')

    qwen_cfg = {
        'architectures': ['Qwen2ForCausalLM'],
        'model_type': 'qwen2',
        'vocab_size': 97,
        'hidden_size': 32,
        'intermediate_size': 64,
        'num_hidden_layers': 2,
        'num_attention_heads': 4,
        'num_key_value_heads': 1,
        'hidden_act': 'silu',
        'max_position_embeddings': 32,
        'rms_norm_eps': 1e-6,
        'rope_theta': 1000000.0,
        'tie_word_embeddings': True,
        'use_sliding_window': False,
        'torch_dtype': 'bfloat16',
    }
    Q = llama_weights(torch.Generator().manual_seed(2), qwen_cfg, biases=True)
    Q16 = {k: v.to(torch.bfloat16) for k, v in Q.items()}
    Qr = {k: v.float() for k, v in Q16.items()}  # the reference runs on exactly the stored BF16 values
    build('qwen2', qwen_cfg, Qr, llama_forward,
          ['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.bias', 'model.layers.0.self_attn.k_proj.weight',
           'model.layers.0.self_attn.k_proj.bias', 'model.layers.0.self_attn.v_proj.bias', 'model.layers.1.mlp.up_proj.weight',
           'model.layers.1.mlp.down_proj.weight', 'model.norm.weight'],
          ['rope_interleaved', 'rope_theta_default', 'mlp_gate_up_swapped'], Q16,
          note='Qwen2ForCausalLM, BF16 weights, tied embeddings, q/k/v biases')

    gpt2_cfg = {
        'architectures': ['GPT2LMHeadModel'],
        'model_type': 'gpt2',
        'vocab_size': 97,
        'n_embd': 32,
        'n_inner': 128,
        'n_layer': 2,
        'n_head': 4,
        'n_positions': 16,
        'activation_function': 'gelu_new',
        'layer_norm_epsilon': 1e-5,
        'scale_attn_weights': True,
        'scale_attn_by_inverse_layer_idx': False,
        'tie_word_embeddings': True,
    }
    H = gpt2_weights(torch.Generator().manual_seed(3), gpt2_cfg)
    build('gpt2', gpt2_cfg, H, gpt2_forward,
          ['model.embed_tokens.weight', 'model.embed_positions.weight', 'model.layers.0.input_layernorm.weight',
           'model.layers.0.input_layernorm.bias', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.q_proj.bias',
           'model.layers.0.self_attn.v_proj.bias', 'model.layers.1.mlp.up_proj.bias', 'model.layers.1.mlp.down_proj.weight',
           'model.norm.bias'],
          ['gelu_erf', 'scale_attn_by_inverse_layer_idx'], gpt2_to_lab(H, gpt2_cfg), lab_params_of=gpt2_to_lab,
          note='GPT2LMHeadModel (HF layout) converted to lab names; tied LM head')
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print(f'wrote {OUT} ({total} bytes)')


if __name__ == '__main__':
    main()
